"""Focal point key pairs and a routing table that uses them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crypto.keys import KeyPair, generate_keypair, public_key_b64

FOCAL_POINTS = {
    "ke-unicef": ("UNICEF Kenya PSEA focal point", "UNICEF", "KE"),
    "ke-wfp": ("WFP Kenya PSEA focal point", "WFP", "KE"),
    "ke-coordinator": ("Kenya PSEA network coordinator", "PSEA Network", "KE"),
    "so-unhcr": ("UNHCR Somalia PSEA focal point", "UNHCR", "SO"),
    "global-psea": ("Global PSEA desk", "PSEA Network", "CH"),
}


@dataclass
class Keyring:
    """Private keys of the test focal points and the escrow, by id."""

    pairs: dict[str, KeyPair] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> Keyring:
        return cls({name: generate_keypair() for name in (*FOCAL_POINTS, "escrow")})

    def public_b64(self, name: str) -> str:
        return public_key_b64(self.pairs[name].public_key)


def routing_table_toml(
    keys: Keyring, *, version: str = "test-1", more_keys: Mapping[str, list[str]] | None = None
) -> str:
    """The test table; `more_keys` adds public keys (base64) to focal points, as in a rotation."""
    more = more_keys or {}
    parts = [
        f'version = "{version}"\n',
        f'[escrow]\npublic_keys = ["{keys.public_b64("escrow")}"]\n',
    ]
    for fp_id, (name, agency, country) in FOCAL_POINTS.items():
        listed = ", ".join(f'"{key}"' for key in [keys.public_b64(fp_id), *more.get(fp_id, [])])
        parts.append(
            f'[[focal_points]]\nid = "{fp_id}"\nname = "{name}"\nagency = "{agency}"\n'
            f'country = "{country}"\npublic_keys = [{listed}]\n'
            f'notify = ["mailto:{fp_id}@example.org"]\n'
        )
    parts.append(
        '[[numbers]]\nnumber = "+254700000001"\ncountry = "KE"\nlanguages = ["sw", "en"]\n'
        '[[numbers]]\nnumber = "+252610000001"\ncountry = "SO"\nlanguages = ["so"]\n'
    )
    parts.append(_RULES)
    return "\n".join(parts)


_RULES = """
[[rules]]
id = "ke-sea-unicef"
country = "KE"
category = ["sexual_exploitation", "sexual_abuse"]
affiliation = "UNICEF"
child = "*"
to = ["ke-unicef"]
cc = ["ke-coordinator"]
deadline_hours = 24

[[rules]]
id = "ke-sea-wfp-child"
country = "KE"
category = ["sexual_exploitation", "sexual_abuse"]
affiliation = "WFP"
child = true
to = ["ke-wfp"]
cc = ["ke-coordinator"]
deadline_hours = 12

[[rules]]
id = "ke-all"
country = "KE"
category = "*"
affiliation = "*"
child = "*"
to = ["ke-coordinator"]
deadline_hours = 48

[[rules]]
id = "so-all"
country = "SO"
category = "*"
affiliation = "*"
child = "*"
to = ["so-unhcr"]
deadline_hours = 48

[[rules]]
id = "catch-all"
country = "*"
category = "*"
affiliation = "*"
child = "*"
to = ["global-psea"]
deadline_hours = 72
"""
