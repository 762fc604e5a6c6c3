# surro_configure_target(<target> [HOST_ONLY]): warnings, include root, and the compile language of
# sources that include Kokkos (CUDA when Kokkos was built as a CMake CUDA language, CXX otherwise).
# In a CUDA build only the sources that reach a Kokkos header through their includes go through
# nvcc; the others (the CLI, config and JSON code, most host-level tests, Catch2's runner) compile
# as C++ with the host compiler, which is two to three times faster than nvcc on a source with no
# kernels. HOST_ONLY: the target's sources include no Kokkos header (HDF5, VTK I/O) and stay plain
# C++ without the scan.

set(SURRO_WARNINGS -Wall -Wextra)

# _surro_reaches_kokkos(<file> <out>): TRUE when <file> includes a Kokkos header, directly or through
# the quoted includes it resolves (next to the file, from the repository root, from tests/, from
# the generated headers). Results are memoized per file in global properties; a file being scanned
# counts as FALSE, so include cycles end.
function(_surro_reaches_kokkos file out)
  get_property(known GLOBAL PROPERTY "SURRO_KOKKOS:${file}" SET)
  if(known)
    get_property(result GLOBAL PROPERTY "SURRO_KOKKOS:${file}")
    set(${out} ${result} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "SURRO_KOKKOS:${file}" FALSE)
  set(result FALSE)
  if(EXISTS "${file}")
    file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    get_filename_component(here "${file}" DIRECTORY)
    foreach(line IN LISTS lines)
      if(line MATCHES "[<\"/]Kokkos[A-Za-z0-9_]*\\.hpp[>\"]")
        set(result TRUE)
        break()
      endif()
      if(NOT line MATCHES "\"([^\"]+)\"")
        continue()
      endif()
      set(inc "${CMAKE_MATCH_1}")
      foreach(base "${here}" "${PROJECT_SOURCE_DIR}" "${PROJECT_SOURCE_DIR}/tests" "${PROJECT_BINARY_DIR}/generated")
        if(EXISTS "${base}/${inc}" AND NOT IS_DIRECTORY "${base}/${inc}")
          get_filename_component(path "${base}/${inc}" ABSOLUTE)
          _surro_reaches_kokkos("${path}" sub)
          if(sub)
            set(result TRUE)
          endif()
          break()
        endif()
      endforeach()
      if(result)
        break()
      endif()
    endforeach()
  endif()
  set_property(GLOBAL PROPERTY "SURRO_KOKKOS:${file}" ${result})
  set(${out} ${result} PARENT_SCOPE)
endfunction()

function(surro_configure_target target)
  cmake_parse_arguments(ARG "HOST_ONLY" "" "" ${ARGN})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${SURRO_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr --extended-lambda>)
  if(SURRO_KOKKOS_LANGUAGE STREQUAL "CUDA" AND NOT ARG_HOST_ONLY)
    get_target_property(srcs ${target} SOURCES)
    get_target_property(dir ${target} SOURCE_DIR)
    set(kernel_srcs "")
    foreach(src IN LISTS srcs)
      if(NOT src MATCHES "\\.(cpp|cc|cxx)$")
        continue()
      endif()
      if(IS_ABSOLUTE "${src}")
        set(path "${src}")
      else()
        set(path "${dir}/${src}")
      endif()
      get_filename_component(path "${path}" ABSOLUTE)
      _surro_reaches_kokkos("${path}" kokkos)
      if(kokkos)
        list(APPEND kernel_srcs "${src}")
      endif()
    endforeach()
    # Source properties are scoped to a directory: set them where the target lives.
    if(kernel_srcs)
      set_source_files_properties(${kernel_srcs} TARGET_DIRECTORY ${target} PROPERTIES LANGUAGE CUDA)
    endif()
  endif()
endfunction()
