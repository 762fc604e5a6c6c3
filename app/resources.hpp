#pragma once
// Up-front resource checks (issue #12, class 8): before a command writes its first file, a lower
// bound of what it will allocate (or write) is compared with what the machine has, and a size that
// certainly cannot fit is refused with Error(usage) naming the config key, the estimate and what is
// available. The estimates count only buffers the command certainly allocates (so they refuse
// nothing that could fit); anything they do not count still fails later, at allocation.
#include <string>

namespace surro::app {

// Bytes of memory the numeric work can still allocate: the device's free memory on a CUDA build
// (`device` true), else the host's MemAvailable (/proc/meminfo; sysconf's available pages where
// that file is missing). `source` receives where the number comes from. Infinity when unknown.
double available_memory_bytes(bool device, std::string* source);

// Free bytes on the filesystem holding `path` (or its nearest existing parent folder); infinity
// when unknown.
double available_disk_bytes(const std::string& path);

// "1.5 GiB", "812 KiB", "3.2e+06 TiB".
std::string format_bytes(double bytes);

// Error(usage) "<key>: <what> needs at least <need> of memory, <available> available (<source>);
// <advice>" when need exceeds the available memory; nothing otherwise.
void require_memory(const std::string& key, const std::string& what, double need, bool device,
                    const std::string& advice);

// The same for disk space under `dir`.
void require_disk(const std::string& key, const std::string& what, double need, const std::string& dir,
                  const std::string& advice);

}  // namespace surro::app
