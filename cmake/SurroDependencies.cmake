# Every third-party library surro uses, found once, here. All are Debian packages (see .ci/run).

find_package(HDF5 REQUIRED COMPONENTS C)
find_package(VTK 9 REQUIRED COMPONENTS CommonCore CommonDataModel CommonMisc IOXML IOParallelXML)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
# protobuf (Debian libprotobuf-dev + protobuf-compiler): the MeshGraphNets TFRecord reader parses
# tf.train.Example with classes protoc generates from datasets/proto/tf_example.proto.
find_package(Protobuf 3 REQUIRED)

# Gmsh (libgmsh-dev 4.8) ships neither a CMake config nor a pkg-config file: find the header and the
# library and wrap them in an imported target. Only surro_mesh links it.
find_path(GMSH_INCLUDE_DIR gmsh.h REQUIRED)
find_library(GMSH_LIBRARY gmsh REQUIRED)
if(NOT TARGET surro::gmsh)
  add_library(surro::gmsh UNKNOWN IMPORTED)
  set_target_properties(surro::gmsh PROPERTIES IMPORTED_LOCATION "${GMSH_LIBRARY}"
                                               INTERFACE_INCLUDE_DIRECTORIES "${GMSH_INCLUDE_DIR}")
endif()
if(SURRO_ENABLE_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()

# FFTW3 and OpenBLAS ship pkg-config files on Debian; their CMake configs are incomplete there
# (libfftw3-dev has no single-precision config, OpenBLASConfig.cmake exports no target).
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFTW3 REQUIRED IMPORTED_TARGET fftw3)
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
# cairo (libcairo2-dev) draws the run report's images into PNG surfaces: no display, no OpenGL.
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)

if(SURRO_ENABLE_CUDA)
  # cuFFT and cuBLAS come with the CUDA toolkit that Kokkos was built against.
  if(NOT TARGET CUDA::cufft OR NOT TARGET CUDA::cublas)
    message(FATAL_ERROR "Kokkos has CUDA enabled but cuFFT/cuBLAS were not found in the CUDA toolkit "
                        "at ${CUDAToolkit_LIBRARY_DIR}.")
  endif()
endif()
