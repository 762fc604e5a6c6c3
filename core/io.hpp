#pragma once
// File output that never leaves a half-written file behind: content goes to a temporary beside
// the target (same filesystem), is flushed, then renamed over the target in one step.
#include <functional>
#include <string>

namespace surro::io {

// Writes `content` to `path` atomically; creates missing parent folders. Throws Error(runtime).
void write_text_atomic(const std::string& path, const std::string& content);

// For writers that produce a file themselves (HDF5, VTK): `write(tmp_path)` fills a temporary
// that is renamed to `path` only if it returns normally; on an exception the temporary is removed.
// Errors raised inside `write` that name the temporary are rethrown naming `path` instead.
void write_atomic(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Removes the temporaries write_atomic leaves when the process is killed mid-write
// (".<file>.tmp<pid>.<n>" directly in `dir`); call it when a run (re)starts in its own folder.
// Returns how many were removed; a missing folder has none.
int remove_stale_temporaries(const std::string& dir);

// Output folders of runs that write several files (rollout, eval -o): begin_output creates `dir`
// and the empty marker file `dir/.incomplete` before the first file; end_output removes it after
// the last. A folder that still holds `.incomplete` belongs to a run that failed, was killed or is
// still running: its files may be a subset. Errors: runtime, naming the folder.
inline const char* const kIncompleteMarker = ".incomplete";
void begin_output(const std::string& dir);
void end_output(const std::string& dir);

}  // namespace surro::io
