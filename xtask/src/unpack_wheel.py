"""Unpack ONNX Runtime's shared libraries from a wheel and verify them.

Usage: unpack_wheel.py WHEEL DEST. Every extracted file is checked against the sha256
recorded in the wheel's RECORD, so a truncated or altered download never gets used.
"""
import base64, hashlib, os, sys, zipfile

wheel, dest = sys.argv[1], sys.argv[2]
os.makedirs(dest, exist_ok=True)
with zipfile.ZipFile(wheel) as zf:
    record_name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
    record = {}
    for line in zf.read(record_name).decode().splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) == 3 and parts[1].startswith("sha256="):
            record[parts[0]] = parts[1][len("sha256="):]
    wanted = [n for n in zf.namelist()
              if n.startswith("onnxruntime/capi/") and ".so" in os.path.basename(n)
              and os.path.basename(n).startswith("lib")]
    if not wanted:
        sys.exit(f"{wheel}: holds no onnxruntime/capi/lib*.so")
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
