# surro_configure_target(<target> SOURCES...): warnings, include root, and the compile language of
# sources that include Kokkos (CUDA when Kokkos was built as a CMake CUDA language, CXX otherwise).

set(SURRO_WARNINGS -Wall -Wextra)

function(surro_kokkos_sources)
  if(SURRO_KOKKOS_LANGUAGE STREQUAL "CUDA")
    set_source_files_properties(${ARGN} DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTIES LANGUAGE CUDA)
  endif()
endfunction()

function(surro_configure_target target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${SURRO_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr --extended-lambda>)
  get_target_property(_srcs ${target} SOURCES)
  surro_kokkos_sources(${_srcs})
endfunction()
