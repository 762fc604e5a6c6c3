# surro_configure_target(<target>): warnings, include root, and the compile language of
# sources that include Kokkos (CUDA when Kokkos was built as a CMake CUDA language, CXX otherwise).

set(SURRO_WARNINGS -Wall -Wextra)


function(surro_configure_target target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${SURRO_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr --extended-lambda>)
  if(SURRO_KOKKOS_LANGUAGE STREQUAL "CUDA")
    # Source properties are scoped to a directory: set them where the target lives.
    get_target_property(_srcs ${target} SOURCES)
    set_source_files_properties(${_srcs} TARGET_DIRECTORY ${target} PROPERTIES LANGUAGE CUDA)
  endif()
endfunction()
