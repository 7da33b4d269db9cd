"""Asserts what sslyze found on kofu's listeners.

Each argument is NAME=FULL_JSON:ANONYMOUS_JSON: the full scan (made with a
client certificate) and a short one made without, which tells whether the
listener asks for a client certificate at all. sslyze cannot tell REQUIRED
from OPTIONAL under TLS 1.3, where a server refuses a missing certificate
after the handshake, so the rule is only that one is asked for; that a
connection without one gets nothing is the integration tests' to show.
Prints one line per listener and exits 1 listing every finding that breaks
a rule.
"""

import json
import sys

NOT_OFFERED = ["ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites",
               "tls_1_0_cipher_suites", "tls_1_1_cipher_suites"]
AEAD = ("_GCM_", "CHACHA20_POLY1305")


def result(scan, command, problems):
    entry = scan.get(command) or {}
    if entry.get("status") != "COMPLETED":
        problems.append(f"{command}: {entry.get('status')} {entry.get('error_reason')}")
        return {}
    return entry.get("result") or {}


def suites(scan, command, problems):
    return [s["cipher_suite"]["name"]
            for s in result(scan, command, problems).get("accepted_cipher_suites", [])]


def server_of(path):
    with open(path) as f:
        [server] = json.load(f)["server_scan_results"]
    return server


def check(name, path, anonymous_path):
    problems = []
    server = server_of(path)
    if server.get("scan_status") != "COMPLETED":
        return [f"{name}: scan {server.get('scan_status')}: {server.get('connectivity_error_trace')}"], ""
    anonymous = server_of(anonymous_path)
    auth = (anonymous.get("connectivity_result") or {}).get("client_auth_requirement", "unknown")
    if auth not in ("REQUIRED", "OPTIONAL"):
        problems.append(f"no client certificate asked for ({auth})")
    scan = server["scan_result"]
    for command in NOT_OFFERED:
        offered = suites(scan, command, problems)
        if offered:
            problems.append(f"{command} accepted: {offered}")
    tls12 = suites(scan, "tls_1_2_cipher_suites", problems)
    tls13 = suites(scan, "tls_1_3_cipher_suites", problems)
    if not tls13:
        problems.append("TLS 1.3 not offered")
    for suite in tls12:
        if not any(a in suite for a in AEAD) or "_ECDHE_" not in suite:
            problems.append(f"TLS 1.2 suite without AEAD or forward secrecy: {suite}")
    for suite in tls13:
        if not any(a in suite for a in AEAD):
            problems.append(f"TLS 1.3 suite without AEAD: {suite}")
    if result(scan, "tls_compression", problems).get("supports_compression"):
        problems.append("TLS compression supported")
    if result(scan, "heartbleed", problems).get("is_vulnerable_to_heartbleed"):
        problems.append("vulnerable to Heartbleed")
    if result(scan, "openssl_ccs_injection", problems).get("is_vulnerable_to_ccs_injection"):
        problems.append("vulnerable to CCS injection")
    robot = result(scan, "robot", problems).get("robot_result", "")
    if robot and not robot.startswith("NOT_VULNERABLE"):
        problems.append(f"ROBOT: {robot}")
    reneg = result(scan, "session_renegotiation", problems)
    if reneg.get("is_vulnerable_to_client_renegotiation_dos"):
        problems.append("client-initiated renegotiation accepted")
    if tls12 and not result(scan, "tls_fallback_scsv", problems).get("supports_fallback_scsv"):
        problems.append("no TLS_FALLBACK_SCSV")
    summary = (f"{name}: client certificate asked ({auth}); TLS 1.3 {len(tls13)} suites, "
               f"TLS 1.2 {len(tls12)} suites ({', '.join(tls12)}); "
               f"SSLv2/3, TLS 1.0/1.1 refused; robot {robot or '?'}")
    return [f"{name}: {p}" for p in problems], summary


def main():
    failures = []
    for arg in sys.argv[1:]:
        name, rest = arg.split("=", 1)
        path, anonymous = rest.split(":", 1)
        problems, summary = check(name, path, anonymous)
        if summary:
            print("tls-scan", summary)
        failures += problems
    for problem in failures:
        print("tls-scan FAILED", problem)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
