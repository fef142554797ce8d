// Test driver for the C++ text frontend: one input per stdin line, one output line each.
//
//   ms_frontend_cli BUNDLE_DIR [--mode ids|norm|num|g2p] [--max-phonemes N] [--max-chars N]
//                   [--word-boundaries]
//
// Input lines are escaped: "\n" "\r" "\t" "\\" stand for newline, CR, tab, backslash.
// ids:  "OK <ids of chunk 1> | <ids of chunk 2> ..." or "ERR <message>"  (TextFrontend::Encode)
// norm: normalized sentences as normalize.join_tokens writes them, joined by " | "
// num:  cardinal <TAB> ordinal <TAB> decimal of the line (number_words.h)
// g2p:  g2p.pte output ids for a word of letters a-z; timing on stderr
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "g2p_model.h"
#include "json.h"
#include "lexicon.h"
#include "normalizer.h"
#include "number_words.h"
#include "text_fold.h"
#include "text_frontend.h"
#include "utf8.h"

namespace {

std::string Unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out += c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

int Fail(const std::string& msg) {
  std::cerr << "ms_frontend_cli: " << msg << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Fail("usage: ms_frontend_cli BUNDLE_DIR [options]");
  const std::string dir = argv[1];
  std::string mode = "ids";
  mobilespeech::FrontendLimits limits;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (a == "--max-phonemes" && i + 1 < argc) {
      limits.max_phonemes = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--max-chars" && i + 1 < argc) {
      limits.max_chars = std::strtoul(argv[++i], nullptr, 10);
    } else if (a == "--word-boundaries") {
      limits.word_boundaries = true;
    } else if (a == "--leading-pause") {
      limits.leading_pause = true;
    } else {
      return Fail("unknown argument " + a);
    }
  }
  std::ifstream mf(dir + "/manifest.json");
  const std::string text((std::istreambuf_iterator<char>(mf)), std::istreambuf_iterator<char>());
  mobilespeech::json::Value manifest;
  std::string err;
  if (!mobilespeech::json::Parse(text, &manifest, &err)) return Fail(err);
  std::vector<std::string> symbols;
  if (const auto* s = manifest.find("symbols")) {
    for (const auto& v : s->items()) symbols.push_back(v.as_string());
  }
  std::ios::sync_with_stdio(false);
  std::string line;

  if (mode == "ids") {
    const auto t0 = std::chrono::steady_clock::now();
    auto fe = mobilespeech::TextFrontend::Load(dir, symbols, limits, &err);
    if (!fe) return Fail(err);
    const auto t1 = std::chrono::steady_clock::now();
    double encode_s = 0;
    std::size_t n = 0;
    while (std::getline(std::cin, line)) {
      std::vector<std::vector<int64_t>> chunks;
      const auto a = std::chrono::steady_clock::now();
      const bool ok = fe->Encode(Unescape(line), &chunks, &err);
      encode_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
      ++n;
      if (!ok) {
        std::cout << "ERR " << err << "\n";
        continue;
      }
      std::string out = "OK";
      for (std::size_t c = 0; c < chunks.size(); ++c) {
        if (c) out += " |";
        for (int64_t id : chunks[c]) out += " " + std::to_string(id);
      }
      std::cout << out << "\n";
    }
    std::cerr << "load_s " << std::chrono::duration<double>(t1 - t0).count() << " encode_s "
              << encode_s << " lines " << n << "\n";
    return 0;
  }

  const auto* sec = manifest.find("frontend");
  if (!sec) return Fail("manifest has no frontend section");
  auto file = [&](const char* key) { return dir + "/" + sec->find(key)->as_string(); };
  if (mode == "norm") {
    mobilespeech::fe::TextFold fold;
    mobilespeech::fe::Lexicon lex;
    if (!fold.Load(file("fold"), &err) || !lex.Load(file("lexicon"), &err)) return Fail(err);
    mobilespeech::fe::Normalizer norm(&fold, [&](const std::string& w) { return lex.Contains(w); });
    while (std::getline(std::cin, line)) {
      std::string out;
      for (const auto& s : norm.Normalize(mobilespeech::utf8::Decode(Unescape(line)))) {
        if (!out.empty()) out += " | ";
        out += mobilespeech::fe::JoinTokens(s);
      }
      std::cout << out << "\n";
    }
    return 0;
  }
  if (mode == "num") {
    while (std::getline(std::cin, line)) {
      std::cout << mobilespeech::fe::Cardinal(line) << "\t" << mobilespeech::fe::Ordinal(line)
                << "\t" << mobilespeech::fe::Decimal(line) << "\n";
    }
    return 0;
  }
  if (mode == "g2p") {
    mobilespeech::fe::G2PModel g2p;
    const int hidden = static_cast<int>(sec->find("g2p_hidden")->as_double());
    const int max_steps = static_cast<int>(sec->find("g2p_max_steps")->as_double());
    if (!g2p.Load(file("g2p"), hidden, max_steps, &err)) return Fail(err);
    double total = 0;
    std::size_t n = 0;
    while (std::getline(std::cin, line)) {
      std::vector<int> ids;
      const auto a = std::chrono::steady_clock::now();
      const bool ok = g2p.Predict(line, &ids, &err);
      total += std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
      ++n;
      if (!ok) {
        std::cout << "ERR " << err << "\n";
        continue;
      }
      std::string out = "OK";
      for (int id : ids) out += " " + std::to_string(id);
      std::cout << out << "\n";
    }
    std::cerr << "g2p_ms_per_word " << (n ? total / static_cast<double>(n) * 1e3 : 0.0) << "\n";
    return 0;
  }
  return Fail("unknown mode " + mode);
}
