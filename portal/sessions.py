"""Sessions in the database, as Django keeps them, read with one plain statement.

Every signed-in request reads its session before anything else. Django's database store
reads it through the ORM (about 0.3 ms of Python to build, run and turn into an object a
query that never changes shape); this store sends the same statement ready-made and keeps
everything else of Django's: the table, the expiry rule, the signing, creation, saving
and deletion. settings.SESSION_ENGINE names this module.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if self.session_key is None:
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            # As Django's store does for a missing or expired session: a new key on save.
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
