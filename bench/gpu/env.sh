# Sourced on the GPU machine: unpacks the stage (SURRO_STAGE_TGZ, default .device/stage.tgz) into
# SURRO_STAGE_DIR (default /tmp/surro-stage) unless it is there already,
# puts surro's binaries on PATH and the staged libraries plus the machine's CUDA libraries on
# LD_LIBRARY_PATH. NCCL (libnccl.so.2) comes from the machine (the loader's path, else a CUDA
# toolkit's lib/). OpenMPI: the machine's own where it has one (mpirun on PATH and libmpi.so.40
# known to the loader: its libraries, plugins and mpirun agree), else the staged one (lib/mpi,
# openmpi/ as OPAL_PREFIX); SURRO_STAGED_MPI=1 picks the staged one anyway. $surro_mpi says which.
stage=${SURRO_STAGE_DIR:-/tmp/surro-stage}
if [[ ! -d $stage ]]; then mkdir -p "$stage" && tar -xf "${SURRO_STAGE_TGZ:-.device/stage.tgz}" -C "$stage"; fi
cudalib=$(dirname "$(find / -name 'libcufft.so.12' -not -path '/proc/*' 2>/dev/null | head -1)")
blaslib=$(dirname "$(find / -name 'libcublasLt.so.13' -not -path '/proc/*' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH="$stage/lib:$cudalib:$blaslib:${LD_LIBRARY_PATH:-}"
export PATH="$stage/bin:$PATH"
# The test binary's fixture paths name the build machine's checkout (stage.sh wrote it to
# source_dir); where that path is absent here, point it at this checkout (the current folder).
if [[ -s $stage/source_dir ]]; then
  surro_src=$(<"$stage/source_dir")
  if [[ -n $surro_src && ! -e $surro_src ]]; then mkdir -p "$(dirname "$surro_src")" && ln -s "$PWD" "$surro_src"; fi
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
  nccllib=$(dirname "$(find /usr/local /usr/lib /opt -name 'libnccl.so.2' 2>/dev/null | head -1)")
  [[ $nccllib != . ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$nccllib"
fi
surro_mpi=none
if [[ -d $stage/lib/mpi ]]; then
  if [[ ${SURRO_STAGED_MPI:-0} != 1 ]] && command -v mpirun >/dev/null && ldconfig -p 2>/dev/null | grep -q 'libmpi\.so\.40 '; then
    surro_mpi=machine
  else
    surro_mpi=staged
    export LD_LIBRARY_PATH="$stage/lib/mpi:$LD_LIBRARY_PATH" PATH="$stage/openmpi/bin:$PATH"
    # OpenMPI finds its plugins, help texts and defaults from these (opal installdirs), PMIx its own.
    export OPAL_PREFIX=$stage/openmpi OPAL_BINDIR=$stage/openmpi/bin OPAL_LIBDIR=$stage/lib/mpi \
      OPAL_PKGLIBDIR=$stage/openmpi/plugins OPAL_DATADIR=$stage/openmpi/share \
      OPAL_PKGDATADIR=$stage/openmpi/share OPAL_SYSCONFDIR=$stage/openmpi/etc \
      PMIX_MCA_mca_base_component_path=$stage/openmpi/pmix
  fi
fi
