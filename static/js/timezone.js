// Tell the portal the viewer's time zone, so that times are shown in it. IANA names
// ("Europe/Berlin", "Etc/GMT+5") are valid cookie values as they are.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.split("; ").indexOf("portal_tz=" + zone) === -1) {
    document.cookie = "portal_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  }
})();
