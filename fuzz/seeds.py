#!/usr/bin/env python3
"""Writes the committed seed corpus of each fuzz target (fuzz/corpus/<target>/seed-*): small,
synthetic inputs (made-up names, cases and keys) that reach each parser's accepting paths, so
the fuzzer starts from valid inputs. Inputs the fuzzer found and that were added later (crash
regressions, `found-*`) are not written here; re-running keeps them. The `token` seeds are
tokens signed with the harness's synthetic key (`ccpor::fuzzing`'s `FUZZ_PRIVATE_KEY`, in a
`keys.json` of a scratch data dir): `ccpor token mint --role clerk --court SC19 --user fuzz
--ttl 87600h` and two `ccpor token attenuate` of it (`--read-only`; `--county Fresno --ttl 1h`),
plus three that are no token.

    python3 fuzz/seeds.py
"""
import base64
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, items):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    for i, item in enumerate(items):
        data = item.encode() if isinstance(item, str) else item
        with open(os.path.join(d, f"seed-{i:02d}"), "wb") as out:
            out.write(data)


def order(case="26DV000123", court="SC19", form="DV-110", **extra):
    o = {
        "courtCode": court, "caseNumber": case, "family": "DV", "formNumber": form,
        "issuedAt": "2026-11-30T17:00:00Z", "expiresAt": "2026-12-21T17:00:00Z",
        "hearingDate": "2026-12-21", "judicialOfficer": "Hon. A. Synthetic",
        "conditions": {"pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT",
                       "stayAwayYards": 100, "firearmRelinquishment": True},
        "parties": [
            {"role": "RESTRAINED", "relationship": "former spouse",
             "person": {"lastName": "Quintero Vale", "firstName": "Ramiro", "dob": "1984-02-29",
                        "sex": "MALE", "race": "WHITE", "heightInches": 70, "weightPounds": 180,
                        "hair": "BLACK", "eye": "BROWN"}},
            {"role": "PROTECTED", "person": {"lastName": "Okonkwo-Lind", "firstName": "Teodora",
                                             "estimatedAge": 35, "sex": "FEMALE"}},
        ],
    }
    o.update(extra)
    return o


dv130 = order(case="25FL0000042", form="DV-130", expiresAt="2029-11-30T17:00:00Z")
del dv130["hearingDate"]
write("import_line", [
    json.dumps(order()),
    json.dumps(dv130),
    json.dumps(order(court="SC58")),
    json.dumps(order(case="")),
    "{\"courtCode\": \"SC19\"}",
    "not json",
])

msg = lambda **m: json.dumps(dict({"messageId": "m1", "externalId": "X1", "sequence": 1}, **m))
write("feed_message", [
    msg(action="ISSUE", order=order()),
    msg(action="MODIFY", sequence=2, order=order()),
    msg(action="RENEW", sequence=3, order=dv130, renewal={"requestFiledOn": "2029-10-01"}),
    msg(action="SERVE", sequence=2, service={"servedAt": "2026-12-01T18:00:00Z", "method": "PERSONAL"}),
    msg(action="TERMINATE", sequence=4,
        termination={"terminatedAt": "2026-12-02T18:00:00Z", "reason": "dismissed"}),
    msg(action="CANCEL", courtCode="SC19", cancellation={"reason": "entered in error"}),
    msg(action="SERVE", service={"orderId": "T3JkZXI6MQ==", "servedAt": "x", "method": "MAIL"}),
])

write("graphql_document", [
    "{ __typename }",
    "query LeaCaseLookup($caseNumber: String!) { ordersByCaseNumber(caseNumber: $caseNumber) "
    "{ id status expiresAt parties { role person { lastName firstName dob } } } }",
    "#op B\nquery A { courts { code name } }\nquery B { __typename a: __typename }",
    "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
    "{ searchPersons(name: \"Garcia\", first: 5) { edges { node { score person { id } } } } }",
    "{ orders(first: 100) { edges { node { parties { person { orders(first: 100) { edges "
    "{ node { id } } } } } } } } }",
    "fragment F on Query { courts { code } } query { ...F ...F x: courts { name } }",
    "{ __schema { types { name fields { name } } } }",
    "subscription { orderEvents { kind } }",
    "{ courts @skip(if: false) @include(if: true) { code } }",
])

write("search_query", [
    "Garcia Lopez\n\n\n1984-02-29",
    "\nRoberto\nGarcia\n02/29/84\n\nSC19\nLos Angeles",
    "GARCIA, BOB",
    "\n\n\n\n26-DV-000001",
    "Mary Ann O'Brien\n\n\n1990-13-01",
    "de la Cruz\nJose\n\n1979\n\n\nLos Angeles",
    "Unknown\n\n\n19880423",
    "Nguyen Thi\n\n\n07/1979\n26DV000004\nSC19",
])

write("dob_text", [
    "1988-04-23", "04/23/1988", "4/23/88", "19880423", "04231988", "1988", "1988-04",
    "04/1988", "1988-23-04", "2088-04-23", "8198-04-23", "198804", "2/30/1990", "02.29.1984",
])

write("identifiers", [
    "26DV000123", "26-DV-000123", "fl 2026/0042.b", "CA0190000", "ca019000a", "SC19", "tc03",
    "Los Angeles", "san luis obispo", "ABCDEFG", "",
])

write("carpos_wire", [
    "EPO.CA0190000.IDK/k-1.NAM/O'NEIL,MARY-ANN J\\..MIS/stay 100 yd\\/91 m away\\\\ see order"
    ".PCO/01.PCO/04",
    "CPO.CA0190000.IDK/k-2.FCN/9990000000042.MIS/terminated",
    "ACK.IDK/k-3.FCN/9990000000001",
    "ACK.IDK/k-3.FCN/9990000000001.DUP/Y",
    "REJ.IDK/k-4.RSN/FMT.FLD/DOB.TXT/bad date\\nsee \\/ here",
    "REJ.RSN/BSY.TXT/busy",
])


def png(w, h, color_type=2, bit_depth=8):
    """A tiny valid PNG (zlib-compressed rows, each with filter byte 0)."""
    chans = {0: 1, 2: 3, 6: 4}[color_type]
    raw = b"".join(b"\0" + bytes((x * 37 + y * 11) % 256 for x in range(w * chans)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def tiff(w, h, pages=1):
    """A tiny uncompressed 8-bit greyscale TIFF, little-endian, `pages` IFDs."""
    out = bytearray(b"II*\0" + struct.pack("<I", 0))
    prev_next = 4
    for p in range(pages):
        strip = bytes((x + p * 50) % 256 for x in range(w * h))
        strip_at = len(out)
        out += strip
        if len(out) % 2:
            out += b"\0"
        ifd_at = len(out)
        struct.pack_into("<I", out, prev_next, ifd_at)
        tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
                (273, 4, 1, strip_at), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(strip))]
        out += struct.pack("<H", len(tags))
        for tag, typ, n, v in tags:
            out += struct.pack("<HHI", tag, typ, n) + (struct.pack("<HH", v, 0) if typ == 3 else struct.pack("<I", v))
        prev_next = len(out)
        out += struct.pack("<I", 0)
    return bytes(out)


def pdf(pages=1):
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{3 + i} 0 R" for i in range(pages)), pages)]
    objs += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# A baseline JPEG, 8x8 grey, made by hand is long; a minimal valid one (JFIF, one 8x8 block).
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJ"
    "DRENDg8QEBEQCgwSExIQEw8QEBD/wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAA"
    "AAAAAAAAAAD/2gAIAQEAAD8AVN//2Q==")
write("image", [png(4, 3), png(2, 2, 6), png(1, 1, 0), tiff(4, 4), tiff(3, 2, pages=2), pdf(1),
                pdf(2), JPEG, b"%PDF-1.4\n%%EOF", b"GIF89a"])

write("token_block", [
    'check if operation("read");',
    'check if county("Fresno");',
    'check if county("Fresno") or county("Kern");',
    'check if time($t), $t <= 2030-01-01T00:00:00Z;',
    'check if document("trusted");',
    'user("mallory"); role("admin");',
    'admin($u) <- user($u); check if admin($u);',
    'reject if operation("write");',
    'check all operation($o), ["read"].contains($o);',
])
