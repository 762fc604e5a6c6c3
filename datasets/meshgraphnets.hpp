#pragma once
// DeepMind MeshGraphNets datasets (CylinderFlow layout) read from their TFRecord files, without
// TensorFlow. docs/datasets.md ("MeshGraphNets TFRecord") describes the layout and the checks.
//
//   <dir>/meta.json                       per feature: dtype, shape (-1 = varies per trajectory),
//                                         type static|dynamic; trajectory_length; field_names; dt
//   <dir>/{train,valid,test}.tfrecord     one tf.train.Example per trajectory, every feature a
//                                         BytesList holding one value: the array's raw little-endian bytes
//
// Features read: mesh_pos float32 (1, V, 2), cells int32 (1, Nc, 3), node_type int32 (1, V, 1) (static),
// velocity float32 (T, V, 2), pressure float32 (T, V, 1) (dynamic); other features are ignored.
#include "datasets/spec.hpp"

#include <string>

namespace surro::data {

struct MeshGraphNetsData {
  DatasetSpec spec;
  Block block;
};

// The dataset's spec from <dir>/meta.json alone: on_mesh, dims {x, y}, fields velocity (C = 2) and
// pressure (C = 1), both time-varying, times k * dt for k < trajectory_length, with meta.json's "dt"
// when present and otherwise dt = 0.01 (CylinderFlow's step, which its meta.json may not state);
// parameters["dt"] holds the dt used. Errors: Error(input) naming meta.json, the feature, the
// expected and the found value.
DatasetSpec meshgraphnets_spec(const std::string& dir);

// Trajectories in <dir>/<split>.tfrecord, counted from the record headers without decoding the data.
long long count_meshgraphnets(const std::string& dir, const std::string& split);

// Trajectories [first, first + count) of <dir>/<split>.tfrecord (count = -1: through the last one).
// block.meshes[b]: points (V_b, 2) double, cells (Nc_b, 3), node_type (V_b); block.fields["velocity"]
// the trajectories' (T, V_b, 2) concatenated, "pressure" (T, V_b, 1). Every record's CRCs are checked,
// and each feature's size against meta.json; cell indices must lie in [0, V_b) and node types in
// [0, 9). Errors: Error(input) naming the file, record index, byte offset and feature; a range beyond
// the split is Error(usage).
MeshGraphNetsData read_meshgraphnets(const std::string& dir, const std::string& split, long long first,
                                     long long count = -1);

}  // namespace surro::data
