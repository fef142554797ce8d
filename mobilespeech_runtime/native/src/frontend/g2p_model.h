// g2p.pte: g2p-en's GRU encoder-decoder for out-of-vocabulary words, run through ExecuTorch's
// Module API as two one-step methods (export/frontend_assets.py: G2PNet):
//   encode_step(grapheme int64 [1], h float [1, H]) -> h
//   decode_step(phoneme int64 [1], h) -> (next phoneme int64 [1], h)
// looped here the way g2p_en.G2p.predict loops them (greedy, stop at </s>).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace executorch {
namespace extension {
namespace module {
class Module;
}  // namespace module
}  // namespace extension
}  // namespace executorch

namespace mobilespeech {
namespace fe {

class G2PModel {
 public:
  G2PModel();
  ~G2PModel();
  bool Load(const std::string& pte_path, int hidden, int max_steps, std::string* err);

  // g2p-en decoder ids for a word of letters a-z (without the final </s>).
  // Thread-safe (calls are serialized).
  bool Predict(const std::string& letters, std::vector<int>* ids, std::string* err) const;

 private:
  std::unique_ptr<executorch::extension::module::Module> module_;
  int hidden_ = 0;
  int max_steps_ = 0;
  mutable std::mutex mu_;
};

}  // namespace fe
}  // namespace mobilespeech
