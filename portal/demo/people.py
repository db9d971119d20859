"""The demo people and the admin, the demo's SRE lead."""

from django.contrib.auth import get_user_model

from portal.roles import grant_sre_lead

ADMIN_USERNAME = "admin"

# username: (first name, last name)
PEOPLE = {
    "priya": ("Priya", "Raman"),
    "marco": ("Marco", "Bianchi"),
    "lena": ("Lena", "Vogel"),
    "tomas": ("Tomás", "Ortega"),
    "aisha": ("Aisha", "Bello"),
    "kenji": ("Kenji", "Sato"),
    "nora": ("Nora", "Lindqvist"),
    "sam": ("Sam", "Okafor"),
    "ines": ("Inês", "Carvalho"),
    "david": ("David", "Cohen"),
    "mei": ("Mei", "Chen"),
    "oliver": ("Oliver", "Hughes"),
}


def load_people(password_hash, reset_passwords, summary) -> dict:
    User = get_user_model()
    users = {}
    for username, (first_name, last_name) in PEOPLE.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@example.com",
                "password": password_hash,
            },
        )
        if not created and reset_passwords:
            user.password = password_hash
            user.save(update_fields=["password"])
        summary.users_created += created
        users[username] = user
    return users


def load_admin(password, password_hash, summary) -> None:
    admin, created = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={
            "first_name": "Alex",
            "last_name": "Admin",
            "email": "sre-lead@example.com",
            "password": password_hash,
            "is_staff": True,
        },
    )
    summary.users_created += created
    if not created:
        changed = []
        if not admin.is_staff:
            admin.is_staff = True
            changed.append("is_staff")
        if not admin.check_password(password):
            admin.password = password_hash
            changed.append("password")
        if changed:
            admin.save(update_fields=changed)
    grant_sre_lead(admin)
