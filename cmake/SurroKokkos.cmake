# Finds Kokkos (>= 3.4) and decides the device backend from it.
#
# Debian's Trilinos-packaged Kokkos 3.4.1 (libtrilinos-kokkos-dev) exports Kokkos::kokkos with
# INTERFACE_INCLUDE_DIRECTORIES = /usr/lib/include (a prefix computed one level too shallow), which
# does not exist; its headers live in /usr/include/trilinos (Kokkos_INCLUDE_DIRS has it right).
# We repair the imported target here, in our build only; the system files stay untouched.
#
# Sets SURRO_ENABLE_CUDA (ON when Kokkos has the CUDA backend) and SURRO_KOKKOS_LANGUAGE (CXX or CUDA:
# the language our Kokkos-including sources must be compiled as).

find_package(Kokkos 3.4 REQUIRED)

get_target_property(_surro_kokkos_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
set(_surro_kokkos_header_found FALSE)
set(_surro_kokkos_dangling FALSE)
foreach(_dir IN LISTS _surro_kokkos_inc)
  if(_dir MATCHES "^\\$<")  # generator expressions are resolved by CMake, not by us
    set(_surro_kokkos_header_found TRUE)
  elseif(EXISTS "${_dir}/Kokkos_Core.hpp")
    set(_surro_kokkos_header_found TRUE)
  elseif(NOT EXISTS "${_dir}")
    set(_surro_kokkos_dangling TRUE)
  endif()
endforeach()
if(_surro_kokkos_dangling)
  set(_surro_kokkos_header_found FALSE)
endif()
if(NOT _surro_kokkos_header_found)
  find_path(SURRO_KOKKOS_INCLUDE_DIR Kokkos_Core.hpp
    HINTS ${Kokkos_INCLUDE_DIRS} ${_surro_kokkos_inc}
    PATH_SUFFIXES trilinos
    DOC "Directory holding Kokkos_Core.hpp")
  if(NOT SURRO_KOKKOS_INCLUDE_DIR)
    message(FATAL_ERROR "Kokkos was found at ${Kokkos_DIR} but Kokkos_Core.hpp is in none of "
                        "'${_surro_kokkos_inc}'; set SURRO_KOKKOS_INCLUDE_DIR to the folder that holds it.")
  endif()
  # Replace the dangling directory rather than appending, so -Werror=missing-include-dirs stays usable.
  set_property(TARGET Kokkos::kokkos PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${SURRO_KOKKOS_INCLUDE_DIR}")
  message(STATUS "Kokkos headers: ${SURRO_KOKKOS_INCLUDE_DIR} (repaired Kokkos::kokkos include path)")
endif()

if(NOT Kokkos_VERSION AND Kokkos_VERSION_STRING)
  set(Kokkos_VERSION "${Kokkos_VERSION_STRING}")
endif()

set(SURRO_ENABLE_CUDA OFF)
set(SURRO_KOKKOS_LANGUAGE CXX)
if(Kokkos_ENABLE_CUDA)
  set(SURRO_ENABLE_CUDA ON)
  if(Kokkos_COMPILE_LANGUAGE STREQUAL "CUDA")
    # Kokkos built with Kokkos_ENABLE_COMPILE_AS_CMAKE_LANGUAGE: no nvcc_wrapper; every source that
    # includes Kokkos is compiled by CMake's CUDA language support.
    set(SURRO_KOKKOS_LANGUAGE CUDA)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND DEFINED Kokkos_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES ${Kokkos_CUDA_ARCHITECTURES})
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
  endif()
  find_package(CUDAToolkit REQUIRED)
endif()

# Kokkos >= 4.5's mdspan-based View marks its members [[no_unique_address]] when not compiled by
# nvcc; with GCC 12.2 and Kokkos 4.6.99 a default-constructed View then had a zeroed reference-count
# word (likely the empty accessor's value-initialization landing on it), and destroying that View
# dereferenced a null allocation record (a segfault in SharedAllocationRecord::decrement at the first `View v;` that
# goes out of scope). CUDA builds compile through nvcc and are not affected. Build such a Kokkos
# with -DKokkos_ENABLE_IMPL_VIEW_LEGACY=ON. Checked once per build folder by running a probe.
if(Kokkos_VERSION VERSION_GREATER_EQUAL 4.5 AND NOT SURRO_KOKKOS_LANGUAGE STREQUAL "CUDA"
   AND NOT DEFINED SURRO_KOKKOS_DEFAULT_VIEW_OK)
  set(_probe "${CMAKE_BINARY_DIR}/CMakeFiles/surro_kokkos_default_view.cpp")
  file(WRITE "${_probe}" "#include <Kokkos_Core.hpp>\nint main() {\n  { Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> v; }\n  return 0;\n}\n")
  try_run(_surro_view_run _surro_view_compile "${CMAKE_BINARY_DIR}/CMakeFiles/surro_kokkos_probe" "${_probe}"
          CXX_STANDARD 17 LINK_LIBRARIES Kokkos::kokkos COMPILE_OUTPUT_VARIABLE _surro_view_log)
  if(NOT _surro_view_compile)
    message(FATAL_ERROR "Kokkos at ${Kokkos_DIR}: a probe including Kokkos_Core.hpp does not compile:\n${_surro_view_log}")
  endif()
  if(NOT _surro_view_run EQUAL 0)
    message(FATAL_ERROR "Kokkos ${Kokkos_VERSION} at ${Kokkos_DIR} crashes destroying a default-constructed View "
                        "with ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} (its mdspan View's "
                        "[[no_unique_address]] members): rebuild Kokkos with -DKokkos_ENABLE_IMPL_VIEW_LEGACY=ON")
  endif()
  set(SURRO_KOKKOS_DEFAULT_VIEW_OK TRUE CACHE INTERNAL "A default-constructed Kokkos View is destroyed safely")
endif()
