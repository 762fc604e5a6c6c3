// surro train: train a neural operator on a dataset made by `surro generate`.
//
//   <output_dir>/checkpoint_last.h5   after every epoch, and on SIGTERM/SIGUSR1/SIGINT (atomic)
//   <output_dir>/checkpoint_best.h5   whenever the validation loss improves
//   <output_dir>/history.csv          one row per epoch
//   <output_dir>/config.json          the resolved config (also inside every checkpoint)
//   <output_dir>/report.html          at the end: curves and config (app/report.hpp)
//
// Determinism: parameters are initialized from run.seed, and epoch e's sample order depends only
// on (run.seed, e). A checkpoint records the optimizer step; `--resume` continues at exactly that
// batch and reaches the same weights as an uninterrupted run on the same backend.
//
// Data parallel (`mpirun -n N surro train`, built with SURRO_MPI; core/comm.hpp): train.batch is the
// global batch. Every rank loads each global batch and computes on its share, samples
// [n r / N, n (r + 1) / N) of the batch's n (whole meshes on meshes; a share may be empty when
// n < N); one sum over ranks of the flat gradient per step (core/comm_device.hpp: NCCL on CUDA
// builds with it, else in fixed rank order through the host) gives the 1-rank step's gradient up
// to float round-off. Input noise is keyed by the value's place in the global
// batch. Losses, validation sums and the stop flag are reduced the same way, so every rank takes
// the same decisions; rank 0 alone writes. A checkpoint holds no rank count: a resume with another
// N re-shards the same global batches (train.batch may not change, as for any resume).
#include "app/commands.hpp"
#include "app/report.hpp"
#include "app/exit_codes.hpp"
#include "app/progress.hpp"
#include "app/resources.hpp"
#include "app/run_config.hpp"
#include "app/stop_signal.hpp"
#include "app/train_config.hpp"
#include "core/comm.hpp"
#include "core/comm_device.hpp"
#include "core/error.hpp"
#include "core/io.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "datasets/checkpoint.hpp"
#include "datasets/loader.hpp"
#include "operators/optim/schedule.hpp"
#include "app/trained_model.hpp"
#include "operators/train/trainer.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace surro::app {
namespace fs = std::filesystem;

namespace impl::train {

// grads (n) *= weight, in double then rounded to float once.
template <class Exec>
void scale_gradient(const Exec& exec, float* grads, std::size_t n, double weight) {
  Kokkos::parallel_for(
      "surro::train::scale_gradient", Kokkos::RangePolicy<Exec>(exec, 0, n),
      KOKKOS_LAMBDA(const std::size_t i) { grads[i] = static_cast<float>(double(grads[i]) * weight); });
}

}  // namespace impl::train

namespace {

// A non-finite loss or gradient norm means the weights just became (or are about to become)
// garbage: stop at once (exit 1), before anything is written, so checkpoint_last.h5 keeps the last
// good epoch.
void require_finite(double value, const char* quantity, long long epoch, long long step, double lr,
                    const std::string& last_path) {
  if (std::isfinite(value)) return;
  SURRO_THROW(ErrorKind::runtime, "train: epoch " << epoch << ", step " << step << ": the " << quantity
                                                  << " is " << value << " (learning rate " << lr
                                                  << "); training diverged and stopped; nothing was written "
                                                  << "for this epoch and " << last_path
                                                  << " (if any) holds the last good one; lower optimizer.lr "
                                                  << "or set optimizer.clip");
}

// Every rank returns only after rank 0 has written the checkpoint: a launcher (mpirun) ends the
// whole job as soon as one rank exits non-zero.
int stopped_by_signal(int sig, long long step, const std::string& last_path) {
  comm::barrier();
  SURRO_LOG_WARN("stopped by signal " << sig << " at step " << step << "; wrote " << last_path
                                      << "; continue with --resume");
  return kExitInterrupted;
}

// `--resume` continues a run only with the configuration it was trained with (stored in the
// checkpoint), compared key by key before anything is written. Keys that change no result, and may
// differ:
//   run.output_dir, run.name   where the run lives (a copied or moved run folder resumes as is);
//   run.log_level              what is printed;
//   train.epochs               the run's length: epoch e's sample order depends on (run.seed, e)
//                              only, so extending a run takes the same steps an uninterrupted longer
//                              run takes -- unless the schedule spans the whole run (cosine or
//                              one_cycle without "total"), whose learning rates depend on its length;
//                              never fewer epochs than the checkpoint already completed;
//   train.skip_nonfinite       a run that meets no non-finite step is bit-identical either way, and
//                              one that meets one would otherwise stop there;
//   data.dataset               when it names the same folder (another spelling of the same path).
// Everything else (the dataset, fields, windows, batch, model, normalize, optimizer, schedule, loss,
// seed, ...) changes the steps and is refused, naming the changed keys.
void refuse_changed_training(const std::string& last_path, const data::CheckpointInfo& prior,
                             const ResolvedConfig& cfg, const TrainingSections& sec) {
  if (prior.config_json.empty()) return;  // nothing recorded to compare with
  config::json was;
  try {
    was = config::json::parse(prior.config_json);
  } catch (const std::exception& e) {
    SURRO_THROW(ErrorKind::input, last_path << ": attribute config: expected the run's config as JSON, got "
                                            << "unparsable text (" << e.what() << ")");
  }
  std::vector<std::string> safe = {"run.output_dir", "run.name", "run.log_level", "train.skip_nonfinite"};
  using Sched = op::ScheduleConfig::Type;
  const bool spans_run = (sec.schedule.type == Sched::cosine || sec.schedule.type == Sched::one_cycle) &&
                         sec.schedule.total == 0;
  if (!spans_run) safe.push_back("train.epochs");
  const config::json old_data = was.value("data", config::json::object());
  if (old_data.contains("dataset") && old_data["dataset"].is_string()) {
    std::error_code e1, e2;
    const fs::path a = fs::weakly_canonical(fs::absolute(old_data["dataset"].get<std::string>()), e1);
    const fs::path b = fs::weakly_canonical(fs::absolute(sec.data.dataset), e2);
    if (!e1 && !e2 && a == b) safe.push_back("data.dataset");
  }
  refuse_changed_keys(
      last_path + ": the run was trained with another configuration", differing_keys(was, cfg.resolved, safe),
      std::string("a resume must take the same steps: only run.output_dir, run.name, "
                  "run.log_level, train.skip_nonfinite and train.epochs (more of them, with a "
                  "schedule that does not span the whole run) may change") +
          (spans_run ? "; here the schedule spans the whole run (cosine or one_cycle without "
                       "total), so train.epochs may not"
                     : "") +
          "; start a new run in another run.output_dir instead");
  if (sec.train.epochs < prior.epoch)
    SURRO_THROW(ErrorKind::usage,
                "train.epochs = " << sec.train.epochs << ": " << last_path << " has already completed "
                                  << prior.epoch << " epochs; a resume continues a run and cannot "
                                  << "shorten it (expected at least " << prior.epoch << ")");
}

// Class 8 of issue #12: sizes that cannot fit are refused before the first output, naming the key.
// Lower bounds only (float everywhere): on grids the loader's and the step's batch buffers hold
// (batch, Cin, P) and (batch, Cout, P) values with at least one channel per field and frame; mesh
// batches are capped by the meshes themselves and not estimated here.
void require_batch_memory(const TrainingSections& sec, const data::TrajectoryStore& store) {
  if (store.on_mesh()) return;
  double points = 1;
  for (int n : store.grid()) points *= n;
  const double channels =
      sec.data.kind == "window"
          ? double(sec.data.fields.size()) * (sec.data.window.t_in + sec.data.window.t_out)
          : double(sec.data.pair.inputs.size() + sec.data.pair.targets.size());
  const double need = double(sec.train.batch) * channels * points * sizeof(float);
  require_memory("train.batch = " + std::to_string(sec.train.batch),
                 "a batch of x and y buffers (" + std::to_string(static_cast<long long>(channels)) +
                     " channels of " + std::to_string(static_cast<long long>(points)) + " points per sample)",
                 need, true, "lower train.batch");
}

// The parameters, their gradients and the two Adam moments: 4 float copies of every parameter,
// counted in double from the tensor shapes (an absurd width overflows no integer here).
void require_model_memory(const op::Architecture& model) {
  op::ParamTable table;
  model.register_params(table);
  double count = 0;
  for (const auto& slot : table.slots()) {
    double n = slot.kind == op::ParamKind::complex ? 2.0 : 1.0;
    for (int d : slot.shape) n *= d;
    count += n;
  }
  char what[160];
  std::snprintf(what, sizeof(what),
                "model type %s with %.3g parameters (and their gradients and Adam moments)",
                model.type().c_str(), count);
  require_memory("model", what, 4.0 * count * sizeof(float), true,
                 "lower the model's sizes (model.width, model.modes, layers, ...)");
}

// The history rows a resume keeps: the header and the rows of the epochs the checkpoint completed.
// A kill between the history row and checkpoint_last.h5 leaves a row the resumed run writes again.
std::string history_up_to(const std::string& text, long long epochs, int* dropped) {
  std::istringstream rows(text);
  std::string row, kept;
  *dropped = 0;
  if (!std::getline(rows, row)) return kept;
  kept = row + "\n";
  while (std::getline(rows, row)) {
    if (row.empty()) continue;
    long long epoch = -1;
    try {
      epoch = std::stoll(row.substr(0, row.find(',')));
    } catch (const std::exception&) {
    }
    if (epoch >= 1 && epoch <= epochs)
      kept += row + "\n";
    else
      ++*dropped;
  }
  return kept;
}

// params := rank 0's values on every rank.
void broadcast_params(const ExecSpace& exec, const op::FlatParams<float>& params) {
  if (comm::size() == 1) return;
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), params.values());
  comm::broadcast(h.data(), h.extent(0) * sizeof(float));
  Kokkos::deep_copy(exec, params.values(), h);
  exec.fence();
}

}  // namespace

DataSection read_data_section(config::Node& n) {
  DataSection d;
  d.dataset = n.require_string("dataset");
  d.train_split = n.get_string("train_split", "train", config::one_of({"train", "valid", "test"}));
  d.valid_split = n.get_string("valid_split", "valid", config::one_of({"train", "valid", "test"}));
  d.kind = n.get_string("kind", "window", config::one_of({"window", "pair"}));
  if (d.kind == "window") {
    d.fields = n.get_string_array("fields", {"vorticity"});
    if (d.fields.empty()) n.fail("fields", "expected at least one field name");
    d.window.t_in = static_cast<int>(n.get_int("t_in", 10, config::positive()));
    d.window.t_out = static_cast<int>(n.get_int("t_out", 1, config::positive()));
    d.window.all_starts = n.get_bool("all_starts", true);
    d.window.stride = static_cast<int>(n.get_int("stride", 1, config::positive()));
  } else {
    d.pair.inputs = n.get_string_array("inputs", {"a"});
    d.pair.targets = n.get_string_array("targets", {"u"});
    d.pair.input_frame = static_cast<int>(n.get_int("input_frame", 0));
    d.pair.target_frame = static_cast<int>(n.get_int("target_frame", -1));
    d.fields = d.pair.inputs;
    for (const auto& t : d.pair.targets)
      if (std::find(d.fields.begin(), d.fields.end(), t) == d.fields.end()) d.fields.push_back(t);
  }
  d.delta = n.get_string("target", "state", config::one_of({"state", "delta"})) == "delta";
  if (d.delta && d.kind != "window")
    n.fail("target", "\"delta\" needs kind window (a frame to add the change to)");
  n.finish();
  return d;
}

TrainSection read_train_section(config::Node& n) {
  TrainSection t;
  t.epochs = n.get_int("epochs", t.epochs, config::positive());
  t.batch = n.get_int("batch", t.batch, config::positive());
  t.mode =
      n.get_string("mode", "teacher_forcing", config::one_of({"teacher_forcing", "unrolled", "pushforward"}));
  t.shuffle = n.get_bool("shuffle", t.shuffle);
  t.input_noise = n.get_number("input_noise", t.input_noise, config::non_negative_number());
  t.loss = n.get_string("loss", t.loss, config::one_of({"rel_l2", "mse", "normalized_mse"}));
  t.skip_nonfinite = n.get_int("skip_nonfinite", t.skip_nonfinite, config::non_negative());
  n.finish();
  return t;
}

NormalizeSection read_normalize_section(config::Node& n) {
  NormalizeSection s;
  s.inputs = n.get_string("inputs", s.inputs, config::one_of({"none", "channel", "pointwise"}));
  s.targets = n.get_string("targets", s.targets, config::one_of({"none", "channel", "pointwise"}));
  s.frames = n.get_int("frames", s.frames, config::non_negative());
  s.edges = n.get_string("edges", s.edges, config::one_of({"none", "channel"}));
  n.finish();
  return s;
}

TrainingSections read_training_sections(config::Node& root) {
  TrainingSections s;
  config::Node d = root.child("data");
  s.data = read_data_section(d);
  config::Node t = root.child("train");
  s.train = read_train_section(t);
  // teacher_forcing learns one step (t_out = 1); the multi-step modes unroll over t_out >= 1 frames
  // of a window dataset.
  if (s.train.mode == "teacher_forcing" && s.data.kind == "window" && s.data.window.t_out != 1)
    d.fail("t_out",
           "expected 1 with train.mode teacher_forcing (one-step training; use train.mode unrolled or "
           "pushforward for t_out > 1), got " +
               std::to_string(s.data.window.t_out));
  if (s.train.mode != "teacher_forcing" && s.data.kind != "window")
    t.fail("mode",
           "\"" + s.train.mode + "\" needs data.kind window (frames to feed back), got " + s.data.kind);
  if (!root.has("model")) {
    std::string types;
    for (const auto& t : op::architecture_types()) types += (types.empty() ? "" : ", ") + t;
    root.fail("model", "missing; expected a model section with a \"type\" (valid types: " + types + ")");
  }
  config::Node m = root.child("model");
  s.model = op::read_architecture(m);
  config::Node nz = root.child("normalize");
  s.normalize = read_normalize_section(nz);
  if (s.train.loss == "normalized_mse" && s.normalize.targets == "none")
    t.fail("loss", "normalized_mse needs normalize.targets (the statistics it normalizes by), got none");
  config::Node o = root.child("optimizer");
  if (o.has("type"))
    s.adam = op::read_optimizer(o);
  else
    o.finish();
  config::Node sc = root.child("schedule");
  if (sc.has("type"))
    s.schedule = op::read_schedule(sc);
  else
    sc.finish();
  return s;
}

op::DataShape data_shape(const TrainingSections& sec, const data::TrajectoryStore& store, int x_channels,
                         int frame_channels) {
  op::DataShape shape;
  shape.in_channels = x_channels;
  shape.out_channels = frame_channels;
  if (store.on_mesh())
    shape.mesh_dims = store.mesh(0).dim;
  else
    shape.grid = store.grid();
  if (store.on_mesh() && sec.data.kind != "window")
    SURRO_THROW(ErrorKind::usage,
                "data.kind: mesh datasets train on windows of frames, got " << sec.data.kind);
  return shape;
}

namespace {

// The batches of one loader as a model sees them: grids as they come; meshes with the block-diagonal
// graph of the batch's meshes, gathered from per-mesh graphs built once and uploaded into device
// buffers planned for the capacity (nothing is rebuilt per step).
class BatchFeed {
 public:
  BatchFeed(const data::TrajectoryStore& store, data::WindowLoader& loader, const op::MaskSpec& mask)
      : m_loader(&loader) {
    if (!store.on_mesh()) {
      for (int n : store.grid()) m_points *= n;
      return;
    }
    std::vector<mesh::Mesh> meshes;
    for (int s = 0; s < store.trajectories(); ++s) meshes.push_back(store.mesh(s));
    m_cache = std::make_unique<op::GraphBatchCache>(meshes, mask);
  }
  // The largest batch of `batch` samples (meshes).
  op::GraphBatchCapacity capacity(int batch) const {
    return m_cache ? m_cache->capacity(batch, m_loader->windows_per_trajectory()) : op::GraphBatchCapacity{};
  }
  void plan(const op::GraphBatchCapacity& capacity, int dims) {
    if (m_cache) m_graph = std::make_unique<op::GraphBatch<ExecSpace>>(capacity, dims);
  }
  // This rank's share of global batch b: samples [n r / N, n (r + 1) / N) of the batch's n (r, N:
  // comm::rank(), comm::size()), with x (rows, Cin, P) and y (rows, Cy, P) holding the whole batch.
  struct Share {
    op::Batch<ExecSpace> batch;
    const float* x = nullptr;   // the share's first row of x
    const float* y = nullptr;   // and of y
    int global_samples = 0;     // n
    std::uint64_t x_first = 0;  // the share's first value in the global batch's x
    bool empty() const { return batch.samples == 0; }
  };
  Share fill(const ExecSpace& exec, int b, float* x, float* y) {
    Share s;
    s.global_samples = m_loader->fill(exec, b, x, y);
    const int n = s.global_samples, r = comm::rank(), size = comm::size();
    const int s0 = int(static_cast<long long>(n) * r / size),
              s1 = int(static_cast<long long>(n) * (r + 1) / size);
    // Rows before the share: samples on grids, the earlier meshes' nodes on meshes.
    const index_t row0 = m_cache ? m_loader->batch_offsets()[std::size_t(s0)] : index_t(s0);
    const std::size_t x_row = std::size_t(m_loader->x_channels()) * m_points;
    const std::size_t y_row = std::size_t(m_loader->y_channels()) * m_points;
    s.x = x + std::size_t(row0) * x_row;
    s.y = y + std::size_t(row0) * y_row;
    s.x_first = std::uint64_t(row0) * x_row;
    if (!m_cache || s0 == s1) {
      s.batch = op::grid_batch<ExecSpace>(s1 - s0);
      return s;
    }
    const std::vector<int>& all = m_loader->batch_trajectories();
    m_graph->upload(exec, m_cache->gather(std::vector<int>(all.begin() + s0, all.begin() + s1)));
    s.batch = op::graph_batch(*m_graph);
    return s;
  }

 private:
  data::WindowLoader* m_loader;
  std::size_t m_points = 1;  // P
  std::unique_ptr<op::GraphBatchCache> m_cache;
  std::unique_ptr<op::GraphBatch<ExecSpace>> m_graph;
};

}  // namespace

int run_train(const JobArgs& args, bool resume) {
  TrainingSections sec;
  const ResolvedConfig cfg =
      resolve_config(args.config, args.sets, [&](config::Node& root) { sec = read_training_sections(root); });
  SURRO_LOG_INFO("resolved config (" << cfg.file << "):\n" << cfg.resolved.dump(2));
  const std::string out = cfg.run.output_dir;
  // Before any work: a run folder equal to the dataset would overwrite its config.json.
  check_output_dir("run.output_dir", out, {{"dataset folder (data.dataset)", sec.data.dataset}});
  const std::string last_path = out + "/checkpoint_last.h5", best_path = out + "/checkpoint_best.h5";
  if (args.auto_resume) resume = fs::exists(last_path);
  if (!resume && fs::exists(last_path))
    SURRO_THROW(ErrorKind::usage, last_path
                                      << ": a training run is already there; continue it with --resume, or "
                                      << "choose another run.output_dir");
  if (resume && !fs::exists(last_path))
    SURRO_THROW(ErrorKind::usage, "--resume: " << last_path << " does not exist (nothing to resume)");
  if (resume) refuse_changed_training(last_path, data::read_checkpoint_info(last_path), cfg, sec);

  // 1. Data.
  const data::TrajectoryStore train_store =
      data::load_split(sec.data.dataset, sec.data.train_split, sec.data.fields);
  const data::TrajectoryStore valid_store =
      data::load_split(sec.data.dataset, sec.data.valid_split, sec.data.fields);
  const int batch = static_cast<int>(sec.train.batch);
  require_batch_memory(sec, train_store);
  auto make_loader = [&](const data::TrajectoryStore& store, bool shuffle, bool drop_last) {
    return sec.data.kind == "window"
               ? data::WindowLoader(store, sec.data.window, batch, cfg.run.seed, shuffle, drop_last)
               : data::WindowLoader(store, sec.data.pair, batch, cfg.run.seed, shuffle, drop_last);
  };
  data::WindowLoader train_loader = make_loader(train_store, sec.train.shuffle, false);
  data::WindowLoader valid_loader = make_loader(valid_store, false, false);
  SURRO_LOG_INFO("data: " << train_loader.samples() << " training and " << valid_loader.samples()
                          << " validation samples from " << sec.data.dataset << ", x channels "
                          << train_loader.x_channels() << ", y channels " << train_loader.y_channels());

  // 2. Normalizers (fitted on the training split, or the checkpoint's when resuming), model,
  // optimizer, schedule.
  std::map<std::string, data::GaussianNormalizer> normalizers =
      resume ? load_checkpoint_normalizers(last_path) : fit_normalizers(sec, train_store);
  check_normalizers(sec, normalizers, resume ? last_path : sec.data.dataset);
  std::shared_ptr<op::Architecture> model = sec.model;
  // Multi-step modes: y holds t_out frames; the model predicts one.
  const bool multi = sec.train.mode != "teacher_forcing";
  const int t_out = multi ? sec.data.window.t_out : 1;
  const op::DataShape shape =
      data_shape(sec, train_store, train_loader.x_channels(), train_loader.y_channels() / t_out);
  if (shape.on_mesh() && multi)
    SURRO_THROW(ErrorKind::usage, "train.mode \""
                                      << sec.train.mode << "\": mesh models train one step "
                                      << "(teacher_forcing); unrolled and pushforward are for grids");
  model->bind(shape);
  require_edge_features(sec, *model);
  require_model_memory(*model);
  BatchFeed train_feed(train_store, train_loader, model->graph_mask());
  BatchFeed valid_feed(valid_store, valid_loader, model->graph_mask());
  op::TrainOptions options;
  options.loss = op::parse_loss_kind(sec.train.loss);
  options.normalized_loss = sec.train.loss == "normalized_mse";
  options.capacity = op::max_capacity(train_feed.capacity(batch), valid_feed.capacity(batch));
  train_feed.plan(options.capacity, shape.mesh_dims);
  valid_feed.plan(options.capacity, shape.mesh_dims);
  ExecSpace exec;
  op::Trainer trainer(exec, model, sec.adam, cfg.run.seed,
                      make_model_normalizers(normalizers, sec.data.delta), options);
  trainer.set_input_noise(sec.train.input_noise);
  trainer.set_skip_nonfinite(sec.train.skip_nonfinite > 0);
  // The global gradient's weight of this rank's share (set per step): 1 for the summed losses
  // (rel_l2, and the multi-step modes, whose loss is always a sum of rel_l2 over samples and
  // frames); n_share / n for one-step mse on grids, a mean over the batch's samples.
  const bool mean_loss = !multi && options.loss == op::LossKind::mse;
  double share_weight = 1.0;
  if (comm::size() > 1 && shape.on_mesh() && mean_loss)
    SURRO_THROW(ErrorKind::usage, "train.loss \""
                                      << sec.train.loss << "\" on meshes with " << comm::size()
                                      << " ranks: the masked mse is a mean over the whole batch's "
                                      << "predicted nodes, not yet reduced over ranks; use "
                                      << "train.loss rel_l2, or one rank");
  // One mechanism whatever the backend (core/comm_device.hpp): NCCL on the GPU, or staged
  // through the host and MPI. With one rank nothing is reduced, unless SURRO_COMM=nccl runs the
  // NCCL path on one GPU (a sum over one rank: the values are unchanged).
  if (comm::reducing())
    trainer.set_reducer([&](const ExecSpace& ex, float* grads, std::size_t n, double loss) {
      if (share_weight != 1.0) impl::train::scale_gradient(ex, grads, n, share_weight);
      comm::sum_device(ex, grads, n);
      return comm::sum(loss);
    });
  SURRO_LOG_INFO("model: " << model->summary(trainer.table()) << ", on " << ExecSpace::name());
  const long long steps_per_epoch = train_loader.batches();
  const op::Horizon horizon{steps_per_epoch, steps_per_epoch * sec.train.epochs};

  data::CheckpointInfo info;
  info.model_type = model->type();
  info.seed = cfg.run.seed;
  info.config_json = cfg.resolved.dump();
  if (resume) {
    info = data::load_checkpoint(last_path, model->type(), trainer.params(), &trainer.optimizer().m(),
                                 &trainer.optimizer().v(), nullptr);
    trainer.optimizer().set_steps(info.step);
    SURRO_LOG_INFO("resumed from " << last_path << " at step " << info.step << " (epoch " << info.epoch
                                   << ")");
    info.config_json = cfg.resolved.dump();
  }
  // Every rank starts from rank 0's parameters (the same seed or checkpoint gives the same ones;
  // this also makes every rank wait here until all have checked the run folder).
  broadcast_params(exec, trainer.params());
  const bool writer = comm::rank() == 0;
  if (writer) {
    const int stale = io::remove_stale_temporaries(out);  // a kill during a checkpoint write
    if (stale > 0) SURRO_LOG_INFO("removed " << stale << " temporary file(s) a killed run left in " << out);
    save_resolved_config(cfg);
  }

  // History rows survive a resume: read the existing CSV back, up to the checkpoint's epoch.
  std::string history;
  if (resume && fs::exists(out + "/history.csv")) {
    std::ifstream in(out + "/history.csv");
    std::stringstream ss;
    ss << in.rdbuf();
    int dropped = 0;
    history = history_up_to(ss.str(), info.epoch, &dropped);
    if (dropped > 0)
      SURRO_LOG_INFO("dropped " << dropped << " history row(s) past the checkpoint's epoch " << info.epoch
                                << " (a run killed before its checkpoint); they are trained again");
  }
  if (history.empty()) history = "epoch,step,lr,train_loss,valid_loss,seconds,samples_per_s\n";
  // The best validation loss so far, exact, from the checkpoint (inf on a fresh run).
  double best = info.best_valid_loss;
  long long skipped = info.skipped_steps;

  // 3. Train. SIGTERM/SIGUSR1/SIGINT (Ctrl-C) stop at the next step boundary after writing
  // checkpoint_last.
  install_stop_handlers();
  // (rows, Cin, P) and (rows, t_out * Cout, P): rows = samples on grids, the capacity's nodes on meshes.
  const std::size_t rows = shape.on_mesh() ? std::size_t(options.capacity.nodes) : std::size_t(batch);
  View1<float> x("surro::train::x", rows * model->in_channels() * shape.points());
  View1<float> y("surro::train::y", rows * train_loader.y_channels() * shape.points());
  // The bookkeeping a checkpoint carries: the epochs completed and, when a signal stops the run
  // part-way through an epoch, that epoch's running training-loss sum and sample count.
  auto set_info = [&](long long epoch_done, double loss_sum, long long samples) {
    info.step = trainer.optimizer().steps();
    info.epoch = epoch_done;
    info.epoch_loss_sum = loss_sum;
    info.epoch_samples = samples;
    info.best_valid_loss = best;
    info.skipped_steps = skipped;
  };
  auto write_last = [&]() {
    if (!writer) return;
    data::write_checkpoint(last_path, info, trainer.params(), &trainer.optimizer().m(),
                           &trainer.optimizer().v(), normalizers);
  };

  long long step = trainer.optimizer().steps();
  int stop = 0;  // the signal any rank received (max over ranks)
  // A run stopped part-way through an epoch resumes that epoch's training-loss average.
  double carried_sum = info.epoch_loss_sum;
  long long carried_n = info.epoch_samples;
  for (long long epoch = step / steps_per_epoch; epoch < sec.train.epochs; ++epoch) {
    Kokkos::Timer timer;
    train_loader.start_epoch(static_cast<int>(epoch));
    double train_sum = carried_sum;
    long long train_n = carried_n, session_n = 0;
    carried_sum = 0;
    carried_n = 0;
    double lr = sec.adam.lr;
    const long long step_at_epoch_start = step % steps_per_epoch;
    for (long long b = step_at_epoch_start; b < steps_per_epoch; ++b) {
      const BatchFeed::Share share = train_feed.fill(exec, static_cast<int>(b), x.data(), y.data());
      const int n = share.global_samples;  // the loss below is the global batch's
      lr = op::learning_rate(sec.schedule, sec.adam.lr, step, horizon);
      share_weight = mean_loss ? double(share.batch.samples) / n : 1.0;
      trainer.set_input_offset(share.x_first);
      const double loss =
          share.empty() ? trainer.idle_step(exec, lr)
          : multi       ? trainer.train_step_unrolled(exec, share.batch.samples, t_out, share.x, share.y, lr,
                                                      op::parse_unroll_mode(sec.train.mode))
                        : trainer.train_step(exec, share.batch, share.x, share.y, lr);
      if (trainer.last_step_skipped()) {
        // train.skip_nonfinite: nothing was updated; count, log, and stop past the limit.
        ++skipped;
        if (skipped > sec.train.skip_nonfinite)
          SURRO_THROW(ErrorKind::runtime,
                      "train: epoch " << epoch + 1 << ", step " << step + 1 << ": " << skipped
                                      << " non-finite steps, more than train.skip_nonfinite = "
                                      << sec.train.skip_nonfinite << " (learning rate " << lr
                                      << "); training diverged and stopped; nothing was written for this "
                                      << "epoch and " << last_path
                                      << " (if any) holds the last good one; lower optimizer.lr or set "
                                      << "optimizer.clip");
        SURRO_LOG_WARN("epoch " << epoch + 1 << ", step " << step + 1 << ": the training loss is " << loss
                                << " and the gradient norm " << trainer.last_grad_norm()
                                << "; step skipped, no update (" << skipped << " skipped, at most "
                                << sec.train.skip_nonfinite << ", train.skip_nonfinite)");
      } else {
        require_finite(loss, "training loss", epoch + 1, step + 1, lr, last_path);
        require_finite(trainer.last_grad_norm(), "gradient norm", epoch + 1, step + 1, lr, last_path);
        train_sum += loss;
        train_n += n;
      }
      session_n += n;
      ++step;
      if (args.log_every > 0 && step % args.log_every == 0) {
        const double t = timer.seconds();
        SURRO_LOG_INFO(step_line(step, horizon.total_steps, epoch + 1, sec.train.epochs,
                                 train_n ? train_sum / train_n : 0.0, session_n / std::max(t, 1e-9),
                                 double(b + 1 - step_at_epoch_start) / std::max(t, 1e-9), t));
      }
      // A signal during the epoch's last step falls through to validation and the history row:
      // a resume starts at the next epoch and would never write this one's row. A signal on any
      // rank stops every rank at this step.
      stop = comm::max(stop_signal());
      if (stop && b + 1 < steps_per_epoch) {
        set_info(epoch, train_sum, train_n);
        write_last();
        return stopped_by_signal(stop, step, last_path);
      }
    }
    double valid_sum = 0;  // this rank's shares, then summed over ranks
    for (int b = 0; b < valid_loader.batches(); ++b) {
      const BatchFeed::Share share = valid_feed.fill(exec, b, x.data(), y.data());
      if (share.empty()) continue;
      valid_sum += multi ? trainer.evaluate_unrolled(exec, share.batch.samples, t_out, share.x, share.y)
                         : trainer.evaluate(exec, share.batch, share.x, share.y, nullptr);
    }
    valid_sum = comm::sum(valid_sum);
    const double train_loss = train_n ? train_sum / train_n : 0.0;
    const double valid_loss = valid_sum / std::max<long long>(1, valid_loader.samples());
    require_finite(valid_loss, "validation loss", epoch + 1, step, lr, last_path);
    const double seconds = timer.seconds();
    char row[256];
    std::snprintf(row, sizeof(row), "%lld,%lld,%.6g,%.6g,%.6g,%.3f,%.1f\n", epoch + 1, step, lr, train_loss,
                  valid_loss, seconds, session_n / std::max(seconds, 1e-9));
    history += row;
    SURRO_LOG_INFO("epoch " << epoch + 1 << "/" << sec.train.epochs << "  train " << train_loss << "  valid "
                            << valid_loss << "  lr " << lr << "  " << seconds << " s  "
                            << session_n / std::max(seconds, 1e-9) << " samples/s");
    // Order: history row, best, last. A kill before checkpoint_last.h5 is written resumes from the
    // previous epoch: its history row is dropped then, and the epoch (same steps, same validation
    // loss) writes the best checkpoint again.
    if (writer) io::write_text_atomic(out + "/history.csv", history);
    const bool improved = valid_loss < best;
    if (improved) best = valid_loss;
    set_info(epoch + 1, 0.0, 0);
    if (improved && writer) {
      const op::FlatParams<float>* none = nullptr;  // the best model needs no optimizer moments
      data::write_checkpoint(best_path, info, trainer.params(), none, none, normalizers);
    }
    write_last();
    stop = comm::max(stop_signal());
    if (stop && epoch + 1 < sec.train.epochs) return stopped_by_signal(stop, step, last_path);
  }
  comm::barrier();  // the other ranks end after rank 0's last write
  SURRO_LOG_INFO("done: best validation loss " << best << "; checkpoints in " << out);
  ReportArgs report_args;
  report_args.dir = out;
  report_after_job(report_args);
  return kExitOk;
}

}  // namespace surro::app
