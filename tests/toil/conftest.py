import datetime as dt

import pytest

#: A Tuesday in March; the organisation's zone is UTC in the tests.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def as_user(request, client_for):
    def sign_in(name):
        return client_for(request.getfixturevalue(name))

    return sign_in


@pytest.fixture
def rings_off(monkeypatch):
    """Recomputes rung on commit are recorded instead of sent to the broker."""
    from toil.tasks import toil as tasks

    rung = []
    monkeypatch.setattr(
        tasks.recompute_dirty_toil_months,
        "apply_async",
        lambda *args, **kwargs: rung.append(kwargs.get("countdown")),
    )
    return rung
