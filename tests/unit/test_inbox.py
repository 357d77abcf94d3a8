"""The notifications service: rendering in both languages (params, money, words evaluated per language), who is
notified (active members of the institution plus named people, minus the one who acted, each once), and mail only
where the person's preference allows it, in the person's own language."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from hall.extensions import db
from hall.labels import state_word
from hall.models import Notification, OutboxMail, User
from hall.money import money_text
from hall.services.core import inbox
from hall.services.core.errors import InvalidInput, NotFound
from tests.support.factories import InstitutionFactory, UserFactory

# A template the catalogs translate (Chinese: 订单当前为“%(state)s”，现在不能执行此操作。)
TRANSLATED = "The order is “%(state)s”; this cannot be done now."


def _people() -> dict[str, User]:
    org, other = InstitutionFactory(), InstitutionFactory()
    people = {
        "owner": UserFactory(institution=org, institution_role="owner", locale="zh_CN"),
        "member": UserFactory(institution=org, institution_role="member", locale="en"),
        "suspended": UserFactory(institution=org, institution_role="member", status="suspended"),
        "other": UserFactory(institution=other, institution_role="owner"),
        "loner": UserFactory(locale="en"),
    }
    db.session.flush()
    return people


def _rows(user: User) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def _mails(user: User) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == user.email)
                                   .order_by(OutboxMail.id)))


def test_it_renders_both_languages_with_params_called_inside_each(app_context: Flask) -> None:
    people = _people()
    amount = 1_234_50
    told = inbox.notify("test.rendered", group="orders", title=TRANSLATED, body="%(amount)s for %(name)s",
                        user_ids=[people["owner"].id], link="/workspace/orders/1",
                        params={"state": lambda: state_word("awaiting_payment"), "name": "甲",
                                "amount": lambda: money_text(amount, "CNY")})
    assert told == 1
    [row] = _rows(people["owner"])
    assert row.title_zh == "订单当前为“待付款”，现在不能执行此操作。"
    assert row.title_en == "The order is “Awaiting payment”; this cannot be done now."
    assert row.body_zh == "¥1,234.50 for 甲" and row.body_en == "CN¥1,234.50 for 甲"
    assert (row.event, row.group, row.link, row.read_at) == ("test.rendered", "orders", "/workspace/orders/1", None)


def test_recipients_are_active_members_plus_named_people_minus_the_actor_once_each(app_context: Flask) -> None:
    people = _people()
    org_id = people["owner"].institution_id
    told = inbox.notify("test.recipients", group="reviews", title="t", body="b", institution_id=org_id,
                        user_ids=[people["loner"].id, people["member"].id, people["loner"].id],
                        exclude_user_id=people["owner"].id)
    assert told == 2
    assert [len(_rows(people[name])) for name in ("owner", "member", "suspended", "other", "loner")] == \
        [0, 1, 0, 0, 1]
    assert inbox.notify("test.nobody", group="reviews", title="t", body="b") == 0


def test_an_unknown_group_is_a_programming_error(app_context: Flask) -> None:
    with pytest.raises(ValueError):
        inbox.notify("test.group", group="gossip", title="t", body="b", user_ids=[1])


def test_mail_goes_only_where_the_preference_allows_in_the_persons_language(app_context: Flask) -> None:
    app_context.config["PUBLIC_BASE_URL"] = "https://hall.example.cn/"
    people = _people()
    inbox.set_preferences(people["member"], {"orders": False})
    inbox.notify("test.mail", group="orders", title=TRANSLATED, body="Body %(state)s",
                 institution_id=people["owner"].institution_id, params={"state": lambda: state_word("paid")},
                 link="/workspace/orders/7")
    [zh] = _mails(people["owner"])
    assert zh.subject == "订单当前为“已付款”，现在不能执行此操作。" and zh.purpose == "test.mail"
    assert zh.body == "Body 已付款\n\nhttps://hall.example.cn/workspace/orders/7\n"
    assert _mails(people["member"]) == []  # orders: mail off
    assert len(_rows(people["member"])) == 1  # still in the inbox
    inbox.notify("test.mail", group="reviews", title=TRANSLATED, body="Body", user_ids=[people["member"].id],
                 params={"state": lambda: state_word("paid")})
    [en] = _mails(people["member"])
    assert en.subject == "The order is “Paid”; this cannot be done now." and en.body == "Body\n"


def test_preferences_default_to_mail_and_refuse_unknown_groups(app_context: Flask) -> None:
    people = _people()
    person = people["owner"]
    assert inbox.preferences(person) == dict.fromkeys(inbox.GROUPS, True)
    assert inbox.set_preferences(person, {"matches": False, "nda": False})["matches"] is False
    assert inbox.set_preferences(person, {"matches": True})["nda"] is False
    assert inbox.preferences(person) == {**dict.fromkeys(inbox.GROUPS, True), "nda": False}
    with pytest.raises(InvalidInput) as refused:
        inbox.set_preferences(person, {"gossip": True})
    assert "gossip" in refused.value.errors


def test_read_state_count_list_and_another_persons_notification(app_context: Flask) -> None:
    people = _people()
    for number in range(3):
        inbox.notify("test.read", group="notices", title=f"n{number}", body="b", user_ids=[people["owner"].id])
    inbox.notify("test.read", group="notices", title="theirs", body="b", user_ids=[people["other"].id])
    owner = people["owner"]
    assert inbox.unread_count(owner) == 3
    items, total = inbox.list_notifications(owner, page=1, page_size=2)
    assert total == 3 and [n.title_en for n in items] == ["n2", "n1"]
    assert inbox.mark_read(owner, items[0].id).read_at is not None
    assert inbox.unread_count(owner) == 2
    assert inbox.list_notifications(owner, unread=True)[1] == 2
    theirs = _rows(people["other"])[0]
    with pytest.raises(NotFound):
        inbox.mark_read(owner, theirs.id)
    assert inbox.mark_all_read(owner) == 2
    assert inbox.unread_count(owner) == 0 and inbox.unread_count(people["other"]) == 1
