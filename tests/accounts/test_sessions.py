"""A rep sees where she is signed in and ends the other browsers; a session left idle past
the limit ends by itself; nobody ends someone else's session."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import SignIn
from kehu.accounts.sessions import SEEN

pytestmark = pytest.mark.django_db


def browser(user, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR="198.51.100.4")
    assert client.post(reverse("login"), {"username": user.username,
                                          "password": f"{user.username}-pass-123"}).status_code == 302
    return client


def test_a_rep_sees_her_browsers_and_ends_the_others(alice):
    office, phone, laptop = (browser(alice, agent) for agent in
                             ("Office Chrome", "Phone Safari", "Laptop Firefox"))
    page = office.get(reverse("accounts:sessions")).content.decode()
    assert page.count("<tr id=\"session-") == 3 and "当前设备" in page
    assert "Phone Safari" in page and "198.51.100.4" in page

    phones = SignIn.objects.get(user=alice, user_agent="Phone Safari")
    assert office.post(reverse("accounts:session_end", args=[phones.pk])).status_code == 302
    assert phone.get(reverse("customers:list")).status_code == 302  # signed out there
    assert laptop.get(reverse("customers:list")).status_code == 200

    office.post(reverse("accounts:sessions_end_others"))
    assert laptop.get(reverse("customers:list")).status_code == 302
    assert office.get(reverse("customers:list")).status_code == 200  # this one stays
    assert list(SignIn.objects.filter(user=alice).values_list("user_agent", flat=True)) == \
        ["Office Chrome"]


def test_signing_out_forgets_the_browser(alice):
    office = browser(alice, "Office Chrome")
    office.post(reverse("logout"))
    assert not SignIn.objects.filter(user=alice).exists()


def test_nobody_ends_someone_elses_session(alice, bob):
    browser(alice, "Office Chrome")
    hers = SignIn.objects.get(user=alice)
    assert browser(bob, "Bob").post(reverse("accounts:session_end", args=[hers.pk])).status_code == 404
    assert SignIn.objects.filter(pk=hers.pk).exists()


def test_an_idle_session_ends_by_itself(alice, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 30
    office = browser(alice, "Office Chrome")
    assert office.get(reverse("customers:list")).status_code == 200
    session = office.session
    session[SEEN] = int(time.time()) - 29 * 60  # busy enough: still in
    session.save()
    assert office.get(reverse("customers:list")).status_code == 200
    session = office.session
    session[SEEN] = int(time.time()) - 31 * 60
    session.save()
    gone = office.get(reverse("customers:list"))
    assert gone.status_code == 302 and gone["Location"].startswith(reverse("login"))
    assert office.get("/api/v1/customers").status_code == 401


def test_a_dead_session_leaves_the_list_and_the_table(alice, settings):
    settings.KEHU_SESSION_IDLE_MINUTES = 30
    browser(alice, "Old Laptop")
    SignIn.objects.filter(user_agent="Old Laptop").update(
        last_seen_at=timezone.now() - dt.timedelta(hours=2))
    office = browser(alice, "Office Chrome")  # signing in again clears the dead ones
    assert "Old Laptop" not in office.get(reverse("accounts:sessions")).content.decode()
    assert not SignIn.objects.filter(user_agent="Old Laptop").exists()
