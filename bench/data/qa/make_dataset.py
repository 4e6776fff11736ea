"""Writes mixed.jsonl: generated documents (a lease, invoices, a licence, an article, a manual)
with answerable questions (gold answers and pages) and unanswerable ones. Run it to regenerate."""

import json
from pathlib import Path

DOCS = {
    "lease.pdf": [
        "Residential Lease Agreement\nThis agreement is made between Harbor Homes Ltd, the landlord, and the tenant Maria Lopez.\n"
        "The property is the apartment at 14 Elm Street, Springfield.\nThe apartment is let unfurnished.",
        "Payment terms\nThe monthly rent is 1,450 euros, payable on the first day of each month.\n"
        "A security deposit of 2,900 euros is held by the landlord.\nRent is paid by bank transfer.",
        "Term and renewal\nThe lease term ends on 31 March 2027.\nThe tenant may renew the lease once for a further two years.\n"
        "Pets are allowed only with the written consent of the landlord.\nEither party may end the lease with three months notice.",
    ],
    "invoice-2024-117.pdf": [
        "INVOICE 2024-117\nIssued by Nordlicht Printing GmbH, Hafenstrasse 8, Bremen.\nBilled to Oak Valley School.\n"
        "Invoice date: 12 February 2024.\nPayment due date: 13 March 2024.",
        "Items\n500 colour brochures, 0.80 euros each, 400.00 euros.\n20 posters, 6.50 euros each, 130.00 euros.\n"
        "Subtotal 530.00 euros. VAT 19 percent 100.70 euros.\nTotal amount due 630.70 euros.\n"
        "Pay to IBAN DE44 5001 0517 5407 3249 31.",
    ],
    "invoice-2024-121.pdf": [
        "INVOICE 2024-121\nIssued by Nordlicht Printing GmbH.\nBilled to Riverside Dental Clinic.\n"
        "Invoice date: 2 April 2024.\nItems: 2,000 business cards, 90.00 euros.\nTotal amount due 107.10 euros.\n"
        "Late payments are charged interest of 5 percent per year.",
    ],
    "licence.txt": [
        "THE HARBOR PUBLIC LICENSE, VERSION 1.2\n\n1. Permissions. The licensee may use, copy, modify and distribute the "
        "software for any purpose, including commercial use.\n\n2. Conditions. Every copy of the software must include "
        "this licence text and the copyright notice of Harbor Software Foundation.",
        "3. Warranty. The software is provided as is, without warranty of any kind.\n\n4. Termination. The licence "
        "ends automatically if the licensee breaks its conditions and does not cure the breach within 30 days of notice.",
        "5. Governing law. This licence is governed by the laws of Norway.\n\n6. Disputes. Disputes are settled by the "
        "courts of Oslo.",
    ],
    "kessel-bridge.md": [
        "# The Kessel Bridge\n\nThe Kessel Bridge crosses the river Aune near the town of Lindholm. It was designed by the "
        "engineer Ada Varga and opened to traffic in 1932.\n\n## Structure\n\nThe bridge is a steel arch bridge with a total "
        "length of 1,204 metres. Its main span is 310 metres long. The steel is repainted every 7 years to prevent rust.\n\n"
        "## Traffic\n\nAbout 18,000 vehicles cross the bridge every day. Cyclists use a separate lane on the east side.",
    ],
    "kettle-manual.pdf": [
        "Thermo-9 Electric Kettle, User Manual\nSafety: never immerse the kettle base in water.\nKeep the kettle away from children.",
        "Specifications\nMaximum capacity: 1.7 litres.\nPower: 2,200 watts.\nCable length: 75 cm.\nThe kettle switches off automatically when the water boils.",
        "Care and warranty\nDescale the kettle every 4 weeks with white vinegar.\nThe warranty period is 3 years from the date of purchase.\n"
        "For service, contact Thermo Appliances at service@thermo.example.",
    ],
}

ANSWERABLE = [
    ("When does the lease term end?", ["31 March 2027"], "lease.pdf", 3),
    ("How much is the monthly rent?", ["1,450 euros", "1450"], "lease.pdf", 2),
    ("Who is the tenant?", ["Maria Lopez"], "lease.pdf", 1),
    ("What is the address of the apartment?", ["14 Elm Street"], "lease.pdf", 1),
    ("How large is the security deposit?", ["2,900 euros", "2900"], "lease.pdf", 2),
    ("For how long may the tenant renew the lease?", ["two years"], "lease.pdf", 3),
    ("How much notice is needed to end the lease?", ["three months"], "lease.pdf", 3),
    ("Who is the landlord?", ["Harbor Homes"], "lease.pdf", 1),
    ("What is the total amount due on invoice 2024-117?", ["630.70"], "invoice-2024-117.pdf", 2),
    ("What is the payment due date of invoice 2024-117?", ["13 March 2024"], "invoice-2024-117.pdf", 1),
    ("Who was invoice 2024-117 billed to?", ["Oak Valley School"], "invoice-2024-117.pdf", 1),
    ("How many colour brochures were ordered?", ["500"], "invoice-2024-117.pdf", 2),
    ("What is the VAT rate on the invoice?", ["19 percent", "19"], "invoice-2024-117.pdf", 2),
    ("Which company issued the invoices?", ["Nordlicht Printing"], "invoice-2024-117.pdf", 1),
    ("Who was invoice 2024-121 billed to?", ["Riverside Dental Clinic"], "invoice-2024-121.pdf", 1),
    ("What interest is charged on late payments?", ["5 percent"], "invoice-2024-121.pdf", 1),
    ("What is the total amount due on invoice 2024-121?", ["107.10"], "invoice-2024-121.pdf", 1),
    ("Which laws govern the Harbor Public License?", ["Norway"], "licence.txt", 3),
    ("Which courts settle disputes under the licence?", ["Oslo"], "licence.txt", 3),
    ("Within how many days must a breach of the licence be cured?", ["30 days"], "licence.txt", 2),
    ("What version is the Harbor Public License?", ["1.2"], "licence.txt", 1),
    ("Whose copyright notice must every copy include?", ["Harbor Software Foundation"], "licence.txt", 1),
    ("Who designed the Kessel Bridge?", ["Ada Varga"], "kessel-bridge.md", 1),
    ("When did the Kessel Bridge open to traffic?", ["1932"], "kessel-bridge.md", 1),
    ("What is the total length of the Kessel Bridge?", ["1,204 metres", "1204"], "kessel-bridge.md", 1),
    ("How often is the bridge steel repainted?", ["7 years", "seven years"], "kessel-bridge.md", 1),
    ("How many vehicles cross the bridge every day?", ["18,000", "18000"], "kessel-bridge.md", 1),
    ("Which river does the Kessel Bridge cross?", ["Aune"], "kessel-bridge.md", 1),
    ("What is the maximum capacity of the Thermo-9 kettle?", ["1.7 litres", "1.7"], "kettle-manual.pdf", 2),
    ("What is the power of the kettle?", ["2,200 watts", "2200"], "kettle-manual.pdf", 2),
    ("How often should the kettle be descaled?", ["every 4 weeks", "4 weeks"], "kettle-manual.pdf", 3),
    ("How long is the kettle warranty?", ["3 years", "three years"], "kettle-manual.pdf", 3),
    ("How long is the kettle cable?", ["75 cm"], "kettle-manual.pdf", 2),
]

UNANSWERABLE = [
    "What is the maximum temperature of the kettle in degrees Fahrenheit?",
    "What is the boiling point of mercury?",
    "Who is the mayor of Lindholm?",
    "How much does a bridge toll cost?",
    "What is the tenant's phone number?",
    "What colour are the walls of the apartment?",
    "What is the discount on invoice 2024-117?",
    "Who signed invoice 2024-121?",
    "Does the licence allow patent claims?",
    "How much does the Thermo-9 kettle weigh?",
    "What is the capital of Australia?",
    "When was the Harbor Software Foundation founded?",
]


def main() -> None:
    out = Path(__file__).with_name("mixed.jsonl")
    with out.open("w") as fh:
        for name, pages in DOCS.items():
            fh.write(json.dumps({"document": name, "pages": pages}) + "\n")
        for question, answers, file, page in ANSWERABLE:
            fh.write(
                json.dumps({"question": question, "answers": answers, "file": file, "page": page}) + "\n"
            )
        for question in UNANSWERABLE:
            fh.write(json.dumps({"question": question, "answers": []}) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
