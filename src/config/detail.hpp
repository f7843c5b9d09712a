// Internals shared by loader.cpp and validate.cpp; not part of the config interface.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"

namespace fapigate::config::detail {

// One problem: the key path ("gateway.routes[2].upstream", empty for the whole document) and
// what is wrong with it.
struct Issue {
  std::string path;
  std::string message;
};

// "source: path: message", leaving out whichever of source and path is empty.
std::string format_issue(const std::string& source, const Issue& issue);

// The semantic checks of validate(), with paths kept apart so that the loader can drop a check
// about a key it already reported (a wrong type must not also be reported as "missing").
std::vector<Issue> validate_issues(const Config& config);

// Levenshtein distance, for "did you mean" suggestions on short key names.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace fapigate::config::detail
