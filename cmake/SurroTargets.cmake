# surro_configure_target(<target> [HOST_ONLY]): warnings, include root, and the compile language of
# sources that include Kokkos (CUDA when Kokkos was built as a CMake CUDA language, CXX otherwise).
# HOST_ONLY: the target's sources include no Kokkos header (HDF5, VTK I/O) and stay plain C++,
# which keeps VTK's headers away from nvcc.

set(SURRO_WARNINGS -Wall -Wextra)


function(surro_configure_target target)
  cmake_parse_arguments(ARG "HOST_ONLY" "" "" ${ARGN})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${SURRO_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr --extended-lambda>)
  if(SURRO_KOKKOS_LANGUAGE STREQUAL "CUDA" AND NOT ARG_HOST_ONLY)
    # Source properties are scoped to a directory: set them where the target lives.
    get_target_property(_srcs ${target} SOURCES)
    set_source_files_properties(${_srcs} TARGET_DIRECTORY ${target} PROPERTIES LANGUAGE CUDA)
  endif()
endfunction()
