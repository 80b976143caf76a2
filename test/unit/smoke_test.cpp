#include <gtest/gtest.h>
#include "rcustate/rcustate.hpp"
using namespace rcustate;
TEST(Smoke, Basic) {
  StoreOptions o;
  o.tables = {{"counts", AddInt64(), 0}, {"names", nullptr, 0}};
  auto store = Store::Open(o).value();
  ASSERT_TRUE(store->CreatePartition(1).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->Merge(1, 0, "k", EncodeInt64(2)).ok());
    ASSERT_TRUE(store->Put(1, 1, "n", "v" + std::to_string(i)).ok());
    {
      ReadSection rs;
      auto v = store->Get(1, 0, "k").value();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(DecodeInt64(*v).value(), 2 * (i + 1));
    }
    EXPECT_EQ(store->Commit(1).value(), uint64_t(i + 1));
  }
  auto pin = store->Pin(1).value();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->Commit(1).ok());
  EXPECT_EQ(pin.version(), 5u);
  EXPECT_EQ(DecodeInt64(pin.Table(0).value().Find("k").value()).value(), 10);
  ReadSection rs;
  EXPECT_EQ(*store->Get(1, 1, "n").value(), "v4");
  auto st = store->Stats(1);
}
