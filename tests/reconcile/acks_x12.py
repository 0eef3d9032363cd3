"""Synthetic acknowledgment files the suites answer 837s with (a clearinghouse's envelope)."""

from __future__ import annotations

ISA = "ISA*00*          *00*          *ZZ*CLEARHOUSE01   *ZZ*DRIPLINE01     *260301*1200*^*00501*{n:09d}*0*T*:~"


def write_277ca(claims: list[tuple[str, str, str | None, str]], n: int = 5) -> str:
    """A 277CA with one status per claim: (patient control number, STC01, payer claim number or
    None, charge); interchange and group control number ``n``."""
    body = ""
    for hl, (pcn, stc, icn, charge) in enumerate(claims, start=4):
        body += f"HL*{hl}*3*PT~NM1*QC*1*X*Y****MI*Z~TRN*2*{pcn}~STC*{stc}*20260305*WQ*{charge}~"
        body += (f"REF*1K*{icn}~" if icn else "") + "DTP*472*D8*20260302~"
    head = (
        "BHT*0085*08*1*20260305*1200*TH~HL*1**20*1~NM1*PR*2*PAYER*****PI*1~TRN*1*1~"
        "DTP*050*D8*20260305~DTP*009*D8*20260305~HL*2*1*21*1~NM1*41*2*SUB*****46*S~TRN*2*B1~"
        "STC*A1:19:PR*20260305*WQ*1~HL*3*2*19*1~NM1*85*2*PROV*****XX*1234567893~TRN*1*0~"
    )
    segs = 1 + (head + body).count("~") + 1
    return (
        ISA.format(n=n) + f"GS*HN*P*R*20260305*1200*{n}*X*005010X214~ST*277*0001*005010X214~"
        f"{head}{body}SE*{segs}*0001~GE*1*{n}~IEA*1*{n:09d}~"
    )
