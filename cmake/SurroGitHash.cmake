# Writes generated/surro/build_info.cpp at every build, touching it only when the commit changed,
# so `surro --version` names the commit it was built from without forcing rebuilds.
set(SURRO_BUILD_INFO_CPP ${PROJECT_BINARY_DIR}/generated/surro/build_info.cpp)
add_custom_target(surro_git_hash
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${SURRO_BUILD_INFO_CPP}
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteBuildInfo.cmake
  BYPRODUCTS ${SURRO_BUILD_INFO_CPP}
  COMMENT "Recording the git commit")
