#include "store/store.hpp"

namespace fapigate::store {
namespace {

class StoreCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.store"; }
  std::string message(int ev) const override {
    switch (static_cast<StoreErrc>(ev)) {
      case StoreErrc::Unavailable: return "store unavailable (cannot open, read-only or full)";
      case StoreErrc::Conflict: return "store conflict (the key already exists)";
      case StoreErrc::Corrupt: return "store data corrupt";
      case StoreErrc::Internal: return "store internal error";
    }
    return "unknown store error";
  }
};

const StoreCategory kCategory;

}  // namespace

ErrorCode make_error_code(StoreErrc e) { return {static_cast<int>(e), kCategory}; }

}  // namespace fapigate::store
