#pragma once
// Version and commit of this build; defined in the generated build_info.cpp (cmake/WriteBuildInfo.cmake).
namespace surro {
extern const char* const kVersion;  // "MAJOR.MINOR.PATCH"
extern const char* const kGitHash;  // `git describe --always --dirty`, or "unknown" outside a checkout
}  // namespace surro
