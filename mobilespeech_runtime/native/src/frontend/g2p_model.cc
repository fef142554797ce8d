#include "g2p_model.h"

#include <cstring>

#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>

namespace mobilespeech {
namespace fe {

using executorch::aten::ScalarType;
using executorch::extension::from_blob;
using executorch::extension::module::Module;
using executorch::runtime::Error;

namespace {
constexpr std::int64_t kBos = 2;         // g2p-en decoder <s>
constexpr std::int64_t kEos = 3;         // g2p-en decoder </s>
constexpr std::int64_t kInputEos = 2;    // g2p-en grapheme </s>
constexpr std::int64_t kFirstLetter = 3;  // grapheme 'a'
const char* const kEncode = "encode_step";
const char* const kDecode = "decode_step";

std::string EtError(const char* what, Error e) {
  return std::string(what) + " (ExecuTorch error " + std::to_string(static_cast<int>(e)) + ")";
}
}  // namespace

G2PModel::G2PModel() = default;
G2PModel::~G2PModel() = default;

bool G2PModel::Load(const std::string& pte_path, int hidden, int max_steps, std::string* err) {
  if (hidden < 1 || max_steps < 1) {
    *err = "bad g2p sizes in the manifest";
    return false;
  }
  hidden_ = hidden;
  max_steps_ = max_steps;
  module_ = std::make_unique<Module>(pte_path, Module::LoadMode::Mmap);
  for (const char* m : {kEncode, kDecode}) {
    const Error e = module_->load_method(m);
    if (e != Error::Ok) {
      *err = EtError(("cannot load " + pte_path + ":" + m).c_str(), e);
      module_.reset();
      return false;
    }
  }
  return true;
}

bool G2PModel::Predict(const std::string& letters, std::vector<int>* ids,
                       std::string* err) const {
  ids->clear();
  if (!module_) {
    *err = "g2p model not loaded";
    return false;
  }
  for (char c : letters) {
    if (c < 'a' || c > 'z') {
      *err = "g2p input must be letters a-z";
      return false;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  const auto n = static_cast<std::size_t>(hidden_);
  std::vector<float> h(n, 0.0f);
  std::int64_t tok = 0;
  auto step = [&](const char* method, bool decode) {
    auto tok_t = from_blob(&tok, {1}, ScalarType::Long);
    auto h_t = from_blob(h.data(), {1, hidden_}, ScalarType::Float);
    auto r = module_->execute(method, {tok_t, h_t});
    if (!r.ok()) {
      *err = EtError("g2p model failed", r.error());
      return false;
    }
    const std::size_t hi = decode ? 1 : 0;
    if (r->size() != hi + 1 || !r->at(hi).isTensor() ||
        r->at(hi).toTensor().numel() != static_cast<std::ptrdiff_t>(n) ||
        r->at(hi).toTensor().scalar_type() != ScalarType::Float ||
        (decode && (!r->at(0).isTensor() || r->at(0).toTensor().scalar_type() != ScalarType::Long ||
                    r->at(0).toTensor().numel() != 1))) {
      *err = "g2p model outputs have the wrong type or size";
      return false;
    }
    // Outputs live in the method's planned memory: copy before the next call.
    std::memcpy(h.data(), r->at(hi).toTensor().const_data_ptr<float>(), n * sizeof(float));
    if (decode) tok = r->at(0).toTensor().const_data_ptr<std::int64_t>()[0];
    return true;
  };
  for (std::size_t i = 0; i <= letters.size(); ++i) {
    tok = i < letters.size() ? kFirstLetter + (letters[i] - 'a') : kInputEos;
    if (!step(kEncode, false)) return false;
  }
  tok = kBos;
  for (int i = 0; i < max_steps_; ++i) {
    if (!step(kDecode, true)) return false;
    if (tok == kEos) break;
    ids->push_back(static_cast<int>(tok));
  }
  return true;
}

}  // namespace fe
}  // namespace mobilespeech
