#!/usr/bin/env python3
"""Synthetic import lines for the release import/feed figures in BENCHMARKS.md: N DV-130 orders
as plain CreateOrderInput lines, or with `msg` as ISSUE feed messages of SC19. Made-up names.

    python3 benches/feeds/gen_lines.py 50000 > plain.ndjson
"""
import json, random, datetime, sys
random.seed(7)
n=int(sys.argv[1]); kind=sys.argv[2] if len(sys.argv)>2 else 'plain'
first=["Maria","Jose","Ana","Luis","Carmen","David","Linh","Wei","Aisha","Omar","Grace","Noah","Emma","Liam","Sofia","Mateo"]
last=["Garcia","Nguyen","Smith","Lopez","Kim","Patel","Johnson","Hernandez","Okafor","Brown","Rivera","Chen","Davis","Martinez"]
now=datetime.datetime.now(datetime.timezone.utc)
for i in range(n):
    issued=now-datetime.timedelta(days=random.randint(1,2000))
    o={"courtCode":"SC19" if kind!='plain' else f"SC{random.randint(1,58):02d}","caseNumber":f"{issued:%y}FL{i:07d}","family":"DV","formNumber":"DV-130",
       "issuedAt":issued.isoformat(),"expiresAt":(issued+datetime.timedelta(days=3*365)).isoformat(),
       "conditions":{"pcoCodes":["01","04","05","07"],"contactLevel":"NO_CONTACT","stayAwayYards":100,"firearmRelinquishment":True},
       "parties":[{"role":"RESTRAINED","relationship":"former spouse","person":{"lastName":random.choice(last),"firstName":random.choice(first),"dob":f"19{random.randint(50,98)}-0{random.randint(1,9)}-1{random.randint(0,8)}","sex":"MALE","heightInches":70,"weightPounds":180,"hair":"BROWN","eye":"BROWN"}},
                  {"role":"PROTECTED","person":{"lastName":random.choice(last),"firstName":random.choice(first),"sex":"FEMALE","estimatedAge":33}}]}
    if kind=='plain': print(json.dumps(o))
    else: print(json.dumps({"messageId":f"m{i}","externalId":f"x{i}","sequence":1,"action":"ISSUE","order":o}))
