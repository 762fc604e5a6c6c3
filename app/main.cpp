// surro: PDE surrogate simulator. Sample runs:
//   surro --version
//   surro info                       # backends, device, threads
//   surro info --json
//   surro check configs/x.json --set run.seed=3   # validate a config, print it resolved
#include "app/cli.hpp"

int main(int argc, char** argv) {
  return surro::app::run_cli(argc, argv);
}
