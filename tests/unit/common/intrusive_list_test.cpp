#include "common/intrusive_list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dcp {
namespace {

struct Item {
    explicit Item(int v) : value(v) {}
    int value;
    ListHook<Item> a;
    ListHook<Item> b;
};

using ListA = IntrusiveList<Item, &Item::a>;
using ListB = IntrusiveList<Item, &Item::b>;

template <class List>
std::vector<int> values(const List& list) {
    std::vector<int> out;
    for (Item* i = list.front(); i != nullptr; i = List::next(*i)) out.push_back(i->value);
    return out;
}

TEST(IntrusiveList, PushInsertRemoveKeepTheOrderBothWays) {
    Item x{1}, y{2}, z{3};
    ListA list;
    EXPECT_TRUE(list.empty());
    list.push_back(x);
    list.push_back(z);
    list.insert_after(&x, y);
    EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(list.back(), &z);
    EXPECT_EQ(ListA::prev(z), &y);
    list.remove(y);
    EXPECT_FALSE(ListA::linked(y));
    EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
    list.remove(y);                 // not linked: nothing
    list.insert_after(nullptr, y);  // at the front
    EXPECT_EQ(values(list), (std::vector<int>{2, 1, 3}));
    list.remove(x);
    list.remove(y);
    list.remove(z);
    EXPECT_TRUE(list.empty());
    EXPECT_EQ(list.back(), nullptr);
}

TEST(IntrusiveList, OneElementInTwoListsThroughTwoHooks) {
    Item x{1}, y{2};
    ListA a;
    ListB b;
    a.push_back(x);
    a.push_back(y);
    b.push_back(y);
    b.push_back(x);
    EXPECT_EQ(values(a), (std::vector<int>{1, 2}));
    EXPECT_EQ(values(b), (std::vector<int>{2, 1}));
    a.remove(x);
    EXPECT_EQ(values(a), (std::vector<int>{2}));
    EXPECT_EQ(values(b), (std::vector<int>{2, 1}));
}

}  // namespace
}  // namespace dcp
