"""The e-mails the platform sends about accounts, in Chinese with an English translation below. Everything else
(review decisions, orders, messages) goes through the notifications inbox: ``hall.services.core.inbox.notify``."""
from __future__ import annotations

from flask import current_app

from hall.models import Institution, User
from hall.services.core.mailer import queue_mail


def _link(path: str, token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{path}?token={token}"


def send_confirmation(user: User, token: str) -> None:
    """Ask the person to confirm their e-mail address."""
    link = _link("/confirm-email", token)
    queue_mail(
        user.email,
        "请确认您的邮箱 / Confirm your e-mail address",
        f"{user.display_name}，您好：\n\n请打开以下链接确认邮箱（3 天内有效）：\n{link}\n\n"
        f"Hello {user.display_name},\n\nOpen this link within 3 days to confirm your e-mail address:\n{link}\n\n"
        f"Token: {token}\n",
        "confirm",
    )


def send_password_reset(user: User, token: str) -> None:
    """Mail a password-reset link."""
    link = _link("/reset-password", token)
    queue_mail(
        user.email,
        "重置密码 / Reset your password",
        f"请在 1 小时内打开以下链接重置密码：\n{link}\n如果不是您本人操作，请忽略本邮件。\n\n"
        f"Open this link within one hour to choose a new password:\n{link}\n"
        f"If you did not ask for this, ignore this message.\n\nToken: {token}\n",
        "reset",
    )


def send_password_changed(user: User) -> None:
    """Tell the person their password changed and every session was ended."""
    queue_mail(
        user.email,
        "您的密码已更改 / Your password was changed",
        "您的密码已更改，所有登录会话和访问令牌均已失效。如非本人操作，请立即重置密码。\n\n"
        "Your password was changed and every session and access token was ended. "
        "If this was not you, reset your password now.\n",
        "password_changed",
    )


def send_invitation(email: str, institution: Institution, inviter: User, token: str) -> None:
    """Invite someone to join an institution."""
    link = _link("/accept-invitation", token)
    name_en = institution.name_en or institution.name_zh
    queue_mail(
        email,
        f"邀请加入 {institution.name_zh} / Invitation to join {name_en}",
        f"{inviter.display_name} 邀请您加入「{institution.name_zh}」。请在 7 天内打开以下链接接受邀请：\n{link}\n\n"
        f"{inviter.display_name} invited you to join {name_en}. Open this link within 7 days to accept:\n{link}\n\n"
        f"Token: {token}\n",
        "invite",
    )
