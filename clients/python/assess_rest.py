import json
import os
import urllib.error
import urllib.request

base = "http://" + os.environ.get("SAFETHIRD_HTTP_ADDR", "127.0.0.1:8080")


def call(path, body=None, accept="application/json"):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Accept": accept})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read().decode()


a = json.loads(call("/v1/countries/MX:assess", {"as_of": "2019-01-01"}))["assessment"]
print(a["countryName"], a["determination"])
print(call("/v1/countries/MX:assess", {"as_of": "2019-01-01"}, accept="text/markdown").splitlines()[0])
route = json.loads(call("/v1/routes:assess", {"legs": [{"country_code": "GT"}, {"country_code": "MX"}],
                                              "as_of": "2020-01-15", "applicant": {"nationality_code": "HN"}}))
print(route["outcome"], route["assessments"][0]["countryName"])
try:
    call("/v1/countries/MEX:assess", {})
except urllib.error.HTTPError as err:
    status = json.load(err)
    print(err.code, status["details"][0]["reason"], status["message"])
