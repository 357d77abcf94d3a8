"""Offline bank transfer (对公转账): the platform's receiving account and what a buyer must write on the transfer."""
from __future__ import annotations

from typing import Any

from flask import current_app

from hall.models import Order


def transfer_instructions(order: Order) -> dict[str, Any]:
    """The account to pay into, the exact amount, and the remittance reference to put in the transfer's memo."""
    config = current_app.config
    return {
        "account_name": config["BANK_ACCOUNT_NAME"],
        "bank_name": config["BANK_NAME"],
        "account_number": config["BANK_ACCOUNT_NUMBER"],
        "amount": order.amount,
        "currency": order.currency,
        "remittance_reference": order.reference,
        "pay_before": order.reserved_until,
        "note_zh": f"请在汇款附言中填写 {order.reference}，金额须与订单一致；到账后由平台确认。",
        "note_en": f"Write {order.reference} in the transfer memo and pay the exact amount; the platform confirms "
                   "receipt.",
    }
