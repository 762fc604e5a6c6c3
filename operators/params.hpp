#pragma once
// The planned parameter memory (core/params.hpp) under the operators' namespace, where every model
// registers its tensors.
#include "core/params.hpp"

namespace surro::op {
using surro::FlatParams;
using surro::ParamKind;
using surro::ParamSlot;
using surro::ParamTable;
}  // namespace surro::op
