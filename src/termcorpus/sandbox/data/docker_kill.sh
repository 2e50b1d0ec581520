mode=$1 me=$$
ppid_of() { local s; read -r s < "/proc/$1/stat" 2>/dev/null || return 1; set -- ${s##*) }; REPLY=$2; }
for ((pass = 0; pass < 50; pass++)); do
  found=0
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [[ $p == 1 || $p == "$me" ]] && continue
    read -r s < "$d/stat" 2>/dev/null || continue
    set -- ${s##*) }
    [[ $1 == Z || $1 == X ]] && continue
    if [[ $mode == command ]]; then
      [[ $2 == 0 ]] && continue
      [[ $2 != 1 ]] && ppid_of "$2" && [[ $REPLY == 0 ]] && continue
    fi
    kill -9 "$p" 2>/dev/null && found=1
  done
  ((found)) || break
done
exit 0
