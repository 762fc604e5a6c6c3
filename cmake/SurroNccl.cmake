# SURRO_WITH_NCCL: whether core/comm_nccl.cpp is built (SURRO_NCCL = AUTO | ON | OFF, see the top
# CMakeLists.txt). NCCL only matters where there are device buffers to sum over MPI ranks: CUDA
# builds with SURRO_MPI. Sets SURRO_NCCL_INCLUDE_DIR, SURRO_NCCL_LIBRARY and SURRO_NCCL_VERSION.
set(SURRO_WITH_NCCL OFF)
string(TOUPPER "${SURRO_NCCL}" _surro_nccl)
if(NOT _surro_nccl MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "SURRO_NCCL: expected AUTO, ON or OFF, got '${SURRO_NCCL}'")
endif()
if(_surro_nccl STREQUAL "ON" AND NOT (SURRO_ENABLE_CUDA AND SURRO_MPI))
  message(FATAL_ERROR "SURRO_NCCL=ON needs a CUDA-enabled Kokkos and SURRO_MPI=ON "
                      "(CUDA backend ${SURRO_ENABLE_CUDA}, SURRO_MPI ${SURRO_MPI})")
endif()
if(SURRO_ENABLE_CUDA AND SURRO_MPI AND NOT _surro_nccl STREQUAL "OFF")
  # NCCL ships with some CUDA toolkits (include/, lib/ next to nvcc) or on its own (NCCL_ROOT).
  get_filename_component(_surro_cuda_root "${CUDAToolkit_BIN_DIR}" DIRECTORY)
  set(_surro_nccl_hints $ENV{NCCL_ROOT} ${NCCL_ROOT} ${_surro_cuda_root} ${CUDAToolkit_LIBRARY_ROOT})
  find_path(SURRO_NCCL_INCLUDE_DIR nccl.h HINTS ${_surro_nccl_hints} ${CUDAToolkit_INCLUDE_DIRS}
            PATH_SUFFIXES include DOC "Directory holding nccl.h")
  find_library(SURRO_NCCL_LIBRARY nccl HINTS ${_surro_nccl_hints} ${CUDAToolkit_LIBRARY_DIR}
               PATH_SUFFIXES lib lib64 DOC "libnccl")
  if(SURRO_NCCL_INCLUDE_DIR AND SURRO_NCCL_LIBRARY)
    file(STRINGS "${SURRO_NCCL_INCLUDE_DIR}/nccl.h" _surro_nccl_defs REGEX "^#define NCCL_(MAJOR|MINOR|PATCH) ")
    string(REGEX REPLACE ".*NCCL_MAJOR ([0-9]+).*NCCL_MINOR ([0-9]+).*NCCL_PATCH ([0-9]+).*" "\\1.\\2.\\3"
                         SURRO_NCCL_VERSION "${_surro_nccl_defs}")
    set(SURRO_WITH_NCCL ON)
    message(STATUS "NCCL ${SURRO_NCCL_VERSION}: ${SURRO_NCCL_LIBRARY} (gradient sums on the GPU)")
  elseif(_surro_nccl STREQUAL "ON")
    message(FATAL_ERROR "SURRO_NCCL=ON: nccl.h or libnccl not found (include: ${SURRO_NCCL_INCLUDE_DIR}, "
                        "library: ${SURRO_NCCL_LIBRARY}); set NCCL_ROOT to the NCCL install, or SURRO_NCCL=OFF")
  else()
    message(STATUS "NCCL not found: sums over ranks stage device buffers through the host (MPI)")
  endif()
endif()
