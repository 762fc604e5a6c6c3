#pragma once
// The ParaView comparison script written beside a rollout's series (issue #15 section 4).
//
//   <dir of the .pvd>/compare.py   paraview --script=compare.py, or
//                                  pvpython compare.py [--field NAME] [--png FILE] [--size WxH]
//
// It opens the .pvd, shows one field's prediction, reference and error (the point arrays
// <field>_pred, <field>_ref, <field>_error that op::write_rollout_vtk / write_rollout_vtu write) in
// three render views side by side with linked cameras, one colour range for prediction and
// reference (theirs over every step of the series), a range symmetric about 0 for a signed error,
// at the series' last step; with --png it saves the three views as one image. Host-only: no Kokkos,
// no VTK (the script is text). The Python is fixed; only the series' name, the field names and the
// folder are filled in.
#include <string>
#include <vector>

namespace surro::app {

// The script's file name, in the folder of the .pvd.
inline const char* const kParaviewScriptName = "compare.py";

// The script's text for the series `pvd_path` and its fields (the first is shown by default).
// Errors: usage when `fields` is empty; input when a name or the path holds a control character
// (they are written as Python string literals).
std::string paraview_compare_script(const std::string& pvd_path, const std::vector<std::string>& fields);

// Writes paraview_compare_script(...) atomically to <folder of pvd_path>/compare.py; returns that path.
std::string write_paraview_compare(const std::string& pvd_path, const std::vector<std::string>& fields);

}  // namespace surro::app
