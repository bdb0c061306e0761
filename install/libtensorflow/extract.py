"""Extract what @tensorflow/tfjs-node needs from a tensorflow-cpu wheel (a zip), streaming, nothing else.

Usage: python3 extract.py WHEEL OUT_DIR SEEDS_JSON
  WHEEL      the tensorflow-cpu wheel
  OUT_DIR    receives lib/ (the two shared libraries) and include/ (the headers)
  SEEDS_JSON a JSON list of the header names tfjs-node's binding includes, e.g. ["tensorflow/c/c_api.h"]

The headers are the seeds plus every header they include with #include "...", followed transitively inside the
wheel's tensorflow/include/ tree (system headers are not in the wheel and are skipped). Prints one JSON line:
{"libraries": [...], "headers": [...], "bytes": N}.
"""
import json
import os
import re
import shutil
import sys
import zipfile

LIBRARIES = {
    "tensorflow/libtensorflow_cc.so.2": "libtensorflow_cc.so.2",
    "tensorflow/libtensorflow_framework.so.2": "libtensorflow_framework.so.2",
}
INCLUDE_ROOT = "tensorflow/include/"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def main() -> None:
    wheel, out, seeds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    total = 0
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        missing = [m for m in LIBRARIES if m not in names]
        if missing:
            raise SystemExit(f"the wheel has no {', '.join(missing)}: not a tensorflow-cpu 2.x wheel for this platform")
        os.makedirs(os.path.join(out, "lib"), exist_ok=True)
        for member, name in LIBRARIES.items():
            with z.open(member) as src, open(os.path.join(out, "lib", name), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
            total += z.getinfo(member).file_size
        headers, queue = [], list(seeds)
        seen = set()
        while queue:
            header = queue.pop()
            if header in seen:
                continue
            seen.add(header)
            member = INCLUDE_ROOT + header
            if member not in names:
                if header in seeds:
                    raise SystemExit(f"the wheel has no header {header}, which tfjs-node's binding includes")
                continue  # a header of another library (e.g. a system header written with quotes)
            text = z.read(member)
            path = os.path.join(out, "include", header)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as dst:
                dst.write(text)
            total += len(text)
            headers.append(header)
            queue.extend(INCLUDE.findall(text.decode("utf-8", "replace")))
    print(json.dumps({"libraries": sorted(LIBRARIES.values()), "headers": sorted(headers), "bytes": total}))


if __name__ == "__main__":
    main()
