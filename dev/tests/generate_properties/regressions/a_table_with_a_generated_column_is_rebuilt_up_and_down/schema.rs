diesel::table! { posts (title) { title -> Integer, score -> Nullable<Text>, doubled -> Bool, stored -> Nullable<Integer>, } }
