#!/usr/bin/env python3
"""Declares, in the template `sam build` wrote, the variables only a local
run sets, so that `sam local` passes env.json's values on: it hands a
function only the variables its template names. The production template
names none of them (AWS_ENDPOINT_URL points every AWS client at moto).

    .venv/bin/python scripts/sam/local_variables.py BUILT_TEMPLATE ENV_JSON
"""
import json
import sys

from samcli.yamlhelper import yaml_dump, yaml_parse

LOCAL_ONLY = ["AWS_ENDPOINT_URL"]

path, env_json = sys.argv[1], sys.argv[2]
template = yaml_parse(open(path).read())
for function, variables in json.load(open(env_json)).items():
    declared = template["Resources"][function]["Properties"].setdefault("Environment", {})
    declared = declared.setdefault("Variables", {})
    for name in LOCAL_ONLY:
        if name in variables:
            declared.setdefault(name, "")
open(path, "w").write(yaml_dump(template))
