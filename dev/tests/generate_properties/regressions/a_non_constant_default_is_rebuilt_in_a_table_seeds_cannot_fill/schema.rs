diesel::table! { users (id) { id -> Integer, name -> SmallInt, at -> Timestamp, } }
