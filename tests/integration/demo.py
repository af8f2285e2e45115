"""The demo behind scripts/demo.sh: the integration lab, started for a person to look at."""

import subprocess
import sys

from lab import Lab


def main():
    lab = Lab()
    try:
        lab.start_nsd()
        lab.start_dnsdist(es_version=2)
        proxy = lab.start_proxy(name="demo-proxy")
        print("NSD (authoritative for dcp.test.)  127.0.0.1:%d" % lab.nsd_port)
        print("dnsdist, DNSCrypt resolver         127.0.0.1:%d  provider %s" % (
            lab.dnsdist_port, "2.dnscrypt-cert.dcp.test"))
        print("provider public key                %s" % lab.provider_key_hex)
        print("dnscrypt-proxy                     127.0.0.1:%d" % proxy.port)
        print("\nproxy log so far:\n" + proxy.log())
        for args in (["www.dcp.test", "A"], ["dcp.test", "MX"], ["big.dcp.test", "TXT", "+tcp",
                                                                  "+short"]):
            cmd = ["dig", "@127.0.0.1", "-p", str(proxy.port)] + args
            print("$ " + " ".join(cmd))
            out = subprocess.run(cmd, capture_output=True, text=True).stdout
            print(out if "+short" not in args else out[:300] + "...\n")
        if "--keep" in sys.argv:
            print("Try: dig @127.0.0.1 -p %d www.dcp.test   (Enter stops everything)" % proxy.port)
            input()
    finally:
        lab.stop()


if __name__ == "__main__":
    main()
