
Bx16JÐO€Ïã5TM¯PIR