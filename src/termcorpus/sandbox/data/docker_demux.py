import os, subprocess, sys, threading
nonce, ctrl, argv = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3:]
tag = nonce + b" "
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
def pump():
    try:
        p.stdin.write(nonce + b"\n")
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            p.stdin.write(data)
    except OSError:
        pass
    finally:
        try:
            p.stdin.close()
        except OSError:
            pass
threading.Thread(target=pump, daemon=True).start()
def emit(fd, data):
    while data:
        data = data[os.write(fd, data):]
buf, in_status = b"", False
try:
    while True:
        data = os.read(p.stdout.fileno(), 65536)
        if not data:
            break
        buf += data
        while buf:
            if in_status:
                i = buf.find(b"\n")
                if i < 0:
                    break
                emit(ctrl, buf[:i + 1])
                buf, in_status = buf[i + 1:], False
                continue
            i = buf.find(tag)
            if i >= 0:
                emit(1, buf[:i])
                buf, in_status = buf[i + len(tag):], True
                continue
            keep = next((k for k in range(min(len(tag) - 1, len(buf)), 0, -1) if tag.startswith(buf[-k:])), 0)
            emit(1, buf[:len(buf) - keep])
            buf = buf[len(buf) - keep:]
            break
    if not in_status:
        emit(1, buf)
except OSError:
    pass
sys.exit(p.wait())
