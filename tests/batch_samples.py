"""Generated documents with known answers for batch tests and bench/batch.py (seeded, no model)."""

from __future__ import annotations

import json
import random
from pathlib import Path

CUSTOMERS = [
    "Harlow & Finch Ltd",
    "Northwind Traders",
    "Blue Heron Bakery",
    "Kessler Maschinenbau GmbH",
    "Orchard Street Dental",
    "Pinewood Studios",
    "Marlowe Legal LLP",
    "Sunrise Logistics",
    "Aster Health Clinic",
    "Copperfield Books",
    "Vega Solar Systems",
    "Lindqvist Design AB",
]
SELLERS = ["Brightline Consulting", "Delta Print Shop", "Greenfield IT Services", "Atlas Office Supply"]
ITEMS = [
    "Consulting services",
    "Printer paper, 20 boxes",
    "Website maintenance",
    "Office chairs",
    "Network installation",
    "Annual software licence",
    "Catering for 40 people",
]
CURRENCIES = ["EUR", "USD", "GBP"]

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string"},
        "customer": {"type": "string"},
        "date": {"type": "string"},
        "total": {"type": "number"},
        "currency": {"type": "string"},
    },
    "required": ["invoice_number", "customer", "date", "total", "currency"],
}


def make_invoices(folder: Path, count: int, seed: int = 7) -> dict[str, dict]:
    """Write ``count`` short invoices as .txt files; returns {path: known fields}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict] = {}
    for n in range(count):
        fields = {
            "invoice_number": f"INV-{rng.randint(1000, 9999)}",
            "customer": rng.choice(CUSTOMERS),
            "date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "total": round(rng.randint(5000, 900000) / 100, 2),
            "currency": rng.choice(CURRENCIES),
        }
        item = rng.choice(ITEMS)
        text = (
            f"{rng.choice(SELLERS)}\nINVOICE\n\nInvoice number: {fields['invoice_number']}\n"
            f"Date: {fields['date']}\nBill to: {fields['customer']}\n\n"
            f"Description: {item}\nTotal due: {fields['currency']} {fields['total']:.2f}\n"
            f"Payment terms: {rng.choice([14, 30, 60])} days\n"
        )
        path = folder / f"invoice_{n:03d}.txt"
        path.write_text(text, encoding="utf-8")
        truth[str(path.resolve())] = fields
    return truth


TOPICS = {
    "invoice": "Invoice {n}. Bill to: {name}. Total due: EUR {amount}. Payment within 30 days.",
    "letter": "Dear {name}, thank you for your kind letter of {amount} words. I hope to see you again soon. "
    "Best wishes, Sam",
    "recipe": "Recipe {n}: mix flour, eggs and milk, then fry in butter for {amount} minutes.",
}


def make_short_documents(folder: Path, count: int, seed: int = 11) -> dict[str, str]:
    """``count`` one-line documents of three kinds, all different; returns {path: kind}."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, str] = {}
    for n in range(count):
        kind = list(TOPICS)[n % len(TOPICS)]
        text = TOPICS[kind].format(n=n, name=rng.choice(CUSTOMERS), amount=100 + n)
        path = folder / f"doc_{n:03d}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        kinds[str(path.resolve())] = kind
    return kinds


def write_schema(path: Path) -> Path:
    path.write_text(json.dumps(INVOICE_SCHEMA, indent=2), encoding="utf-8")
    return path
