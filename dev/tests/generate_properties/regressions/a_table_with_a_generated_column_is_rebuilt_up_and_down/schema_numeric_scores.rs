diesel::table! { posts (id) { id -> Integer, score -> Nullable<BigInt>, doubled -> Bool, stored -> Nullable<Integer>, } }
