"""Unpack shared libraries from a pinned wheel and verify them.

Usage: python3 -c "$(cat unpack_wheel.py)" WHEEL SHA256 DEST [INSIDE [NAME ...]]
INSIDE: the wheel's folder holding the libraries (default onnxruntime/capi/); NAMEs: the
only libraries to unpack, each of which must be there (default: all of INSIDE's).

The wheel's own sha256 is checked against SHA256 (the pin xtask holds) on the open file
before anything is read from the archive, so a wheel that is not the pinned one never has
a byte unpacked, however consistent its RECORD. Then every extracted library is checked
against the sha256 recorded in the wheel's RECORD, so a bad extraction never gets used.
"""
import base64, hashlib, os, sys, zipfile

wheel, expected, dest = sys.argv[1], sys.argv[2], sys.argv[3]
inside = sys.argv[4] if len(sys.argv) > 4 else "onnxruntime/capi/"
only = set(sys.argv[5:])
with open(wheel, "rb") as handle:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    if digest.hexdigest() != expected:
        sys.exit(f"{wheel}: its sha256 is {digest.hexdigest()}, not the pinned {expected}; "
                 "refused before unpacking")
    handle.seek(0)
    os.makedirs(dest, exist_ok=True)
    with zipfile.ZipFile(handle) as zf:
        record_name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        record = {}
        for line in zf.read(record_name).decode().splitlines():
            parts = line.rsplit(",", 2)
            if len(parts) == 3 and parts[1].startswith("sha256="):
                record[parts[0]] = parts[1][len("sha256="):]
        wanted = [n for n in zf.namelist()
                  if n.startswith(inside + "lib") and "/" not in n[len(inside):]
                  and (".so" in os.path.basename(n) or n.endswith(".dylib"))
                  and (not only or os.path.basename(n) in only)]
        if not wanted:
            sys.exit(f"{wheel}: holds no {inside}lib*.so")
        missing = only - {os.path.basename(n) for n in wanted}
        if missing:
            sys.exit(f"{wheel}: lacks {', '.join(sorted(missing))} in {inside}")
        names = [os.path.basename(n) for n in wanted]
        if len(set(names)) != len(names) or any(n in ("", ".", "..") for n in names):
            sys.exit(f"{wheel}: its libraries' file names clash")
        for name in wanted:
            data = zf.read(name)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if record.get(name) != digest:
                sys.exit(f"{wheel}: {name} does not match the sha256 in RECORD")
            target = os.path.join(dest, os.path.basename(name))
            tmp = target + ".part"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
            print("unpacked", os.path.basename(name), file=sys.stderr)
