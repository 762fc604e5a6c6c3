#!/usr/bin/env bash
# Puts the ORIGINAL FNO scripts (zongyi-li/fourier_neural_operator, the paper's code) into
# .device/fno_original/ for bench/gpu/fno_parity.sh, which runs them unchanged apart from the
# run-time patches listed in bench/peers/fno_original.py. Run HERE, after bench/gpu/stage.sh
# (stage.sh empties .device/); the lead carries .device to the GPU machine. Nothing of upstream's
# is committed to this repository.
#
# Source: a git mirror of the repository (the session tool `fetch github:zongyi-li/fourier_neural_operator`
# makes one under /work/.mirror). That repository is now neuraloperator's library; the original
# scripts live in its history. The commit below is the original repository's last master commit
# (2022-06-09, "Merge pull request #74"; later commits touching these files exist only on unmerged
# pull-request branches). Its files, all at the top level:
#   fourier_2d_time.py   FNO-2D with the recurrent time stepping (the NS benchmark, paper §5.3)
#   utilities3.py        MatReader, LpLoss, count_params, device
#   Adam.py              the Adam the script imports (torch's, vendored for complex parameters)
#
# Usage: bench/gpu/fetch_fno_original.sh [GIT_DIR [COMMIT]]
#   GIT_DIR default /work/.mirror/zongyi-li+fourier_neural_operator/repo (or $FNO_MIRROR).
# Writes .device/fno_original/{fourier_2d_time.py,utilities3.py,Adam.py,SOURCE}; SOURCE records
# the commit and each file's sha256 (the GPU log prints it again).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
git_dir=${1:-${FNO_MIRROR:-/work/.mirror/zongyi-li+fourier_neural_operator/repo}}
commit=${2:-74b1572d4e02f215728b4aa5bf46374ed7daba06}
files=(fourier_2d_time.py utilities3.py Adam.py)
out=.device/fno_original
if ! git --git-dir="$git_dir" cat-file -e "$commit^{commit}" 2>/dev/null; then
  echo "fetch_fno_original.sh: $git_dir has no commit $commit (expected a mirror of" \
    "github.com/zongyi-li/fourier_neural_operator; pass its git dir as the first argument)" >&2
  exit 1
fi
rm -rf "$out" && mkdir -p "$out"
{
  echo "repository: zongyi-li/fourier_neural_operator"
  echo "commit: $(git --git-dir="$git_dir" rev-parse "$commit")"
  echo "date: $(git --git-dir="$git_dir" log -1 --format=%cd --date=short "$commit")"
} >"$out/SOURCE"
for f in "${files[@]}"; do
  git --git-dir="$git_dir" show "$commit:$f" >"$out/$f"
  echo "sha256 $(sha256sum "$out/$f" | cut -d' ' -f1) $f" >>"$out/SOURCE"
done
cat "$out/SOURCE"
