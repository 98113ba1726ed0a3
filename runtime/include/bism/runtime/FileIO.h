//===- FileIO.h - whole-file reads and atomic writes ------------*- C++ -*-===//
//
// Every file the runtime produces (checkpoints, arrays, pictures, configs)
// goes through writeFileAtomically: a crash, a full disk or an unwritable
// folder never leaves a half-written file under the final name.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_FILEIO_H
#define BISM_RUNTIME_FILEIO_H

#include <string>

namespace bism::runtime {

/// Writes `bytes` to `path + ".tmp"`, fsyncs, renames it to `path` and syncs
/// the folder. On failure returns false, sets `error` (naming `path`) and
/// removes the temporary file.
bool writeFileAtomically(const std::string &path, const std::string &bytes,
                         std::string &error);

/// Reads the whole file; false with `error` naming `path` on failure.
bool readWholeFile(const std::string &path, std::string &bytes,
                   std::string &error);

/// Creates `path` and its parents if needed; false with `error` otherwise.
bool createDirectories(const std::string &path, std::string &error);

/// The file in a run folder that lockRunFolder locks (not part of the run).
constexpr const char *kRunLockFile = ".bism-lock";

/// Takes an exclusive lock (flock) on `dir`/.bism-lock, held until the
/// process exits, and writes the process id into it; false when another
/// process holds it ("run folder DIR is in use by pid N") or on an I/O
/// error. Two writers on one run folder would mix their files.
bool lockRunFolder(const std::string &dir, std::string &error);

/// `'path'`, for messages.
std::string quotedPath(const std::string &path);

} // namespace bism::runtime

#endif // BISM_RUNTIME_FILEIO_H
