# Sourced on the GPU machine after run_tests.sh (or unpack) has put the stage in /tmp/surro-stage:
# puts surro's binaries on PATH and the staged libraries plus the machine's CUDA libraries on
# LD_LIBRARY_PATH.
stage=/tmp/surro-stage
if [[ ! -d $stage ]]; then mkdir -p "$stage" && tar -xf .device/stage.tgz -C "$stage"; fi
cudalib=$(dirname "$(find / -name 'libcufft.so.12' -not -path '/proc/*' 2>/dev/null | head -1)")
blaslib=$(dirname "$(find / -name 'libcublasLt.so.13' -not -path '/proc/*' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH="$stage/lib:$cudalib:$blaslib:${LD_LIBRARY_PATH:-}"
export PATH="$stage/bin:$PATH"
