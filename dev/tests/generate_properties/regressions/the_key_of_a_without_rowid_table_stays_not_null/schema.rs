diesel::table! { posts (id, code) { id -> Nullable<Integer>, code -> Text, } }
