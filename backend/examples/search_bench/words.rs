//! The vocabulary of the synthetic stories: common English words roughly in order of
//! frequency (the head of the Zipf curve, with the narrative, past-tense and family words
//! memoirs use), people's names, places, themes for tags, and CJK words for the stories
//! written in Chinese or Japanese. Ranks past the end of [`COMMON`] are made-up but
//! pronounceable words (see `corpus::tail_word`), so the term dictionary has a long tail
//! of rare words as a real archive does.

pub const COMMON: &str = "
the and of to a in was he it that i her his she had for with on as at we they but
my from by not be were all they said one there so me this him up out an when her would
them have their what who into about then could is were our after over you back time
went came like little old more down just before only no house day two years first some
mother father home never children could back through other made again where how would
did because still even told would know way always us long new life family once away
own while each took asked man school see those every last three also which any until
used good much here work might around year many great father's mother's place though
night go should morning got come make think war under war whom both get left same
right small later nothing another its few found saw later upon thought town never
everything something people brother sister farm kitchen table remember remembered
hands days young grandmother grandfather village church world water along letters
summer winter war gave together whole room country around across without enough
always front ever door better looked evening behind four five began side road tell
kept called else done city put dear want wanted knew hand yet since between against
nothing knew felt often best far near course till river next being garden rather
during times keep house's himself herself full open among story stories letter wife
husband son daughter mind heard head half eyes face whose brought bread food
sometimes says soon almost hard car window seemed himself second money across bed
away turned taught train high fire field fields horse horses cows chickens apple
apples orchard harvest wheat barn hill hills sea boat boats ship ships station
market shop store street streets bridge church's chapel school's teacher teachers
class lessons books book paper pen photograph photographs picture pictures camera
album wedding married marriage bride dress ring rings baby babies born birth died
death funeral grave cemetery flowers roses tree trees forest woods snow rain storm
wind sun moon stars sky dark light warm cold hot cool spring autumn fall season
christmas easter birthday holiday holidays party dance dancing music song songs
singing piano violin guitar radio television newspaper news war's soldier soldiers
army navy uniform medal letters' front camp prisoner peace returned return leaving
left arrived journey travel traveled travelled trip voyage emigrated moved moving
abroad immigrant immigrants ship's harbour harbor port passport border language
languages english german polish italian irish french spanish greek russian
welcome neighbours neighbors neighbour neighbor friend friends friendship cousin
cousins aunt aunts uncle uncles nephew niece grandson granddaughter grandchildren
grandparents parents parent relatives family's ancestors generation generations
kitchen's stove oven recipe recipes cake cakes pie pies soup bread's butter milk
eggs sugar flour honey jam tea coffee wine beer dinner supper breakfast lunch meal
meals cooking cooked baking baked sunday monday saturday friday week weeks month
months hour hours minute minutes clock watch early late afternoon noon midnight
tomorrow yesterday today tonight morning's nights ago age aged older oldest younger
youngest child childhood boy boys girl girls man's men woman women lady gentleman
people's person everyone someone anyone nobody somebody everybody everything's
looked looking look seen seeing watched watching heard hearing listened listening
said saying spoke speaking talked talking told telling asked asking answered
called calling wrote writing written read reading learned learning taught teaching
worked working walked walking ran running sat sitting stood standing lay lying slept
sleeping woke waking ate eating drank drinking cooked cleaning washed washing built
building carried carrying brought bringing bought buying sold selling paid paying
gave giving took taking made making found finding lost losing kept keeping left
leaving met meeting helped helping played playing laughed laughing cried crying
smiled smiling sang danced loved loving hated missed missing remembered forgot
forgotten believed hoped wished waited waiting stayed staying lived living died
dying buried married marrying farmed fished fishing hunting sewing knitting
mended painted painting planted planting picked picking grew growing raised
raising fed feeding milked ploughed plowed harvested gathered collected saved saving
spent spending wore wearing dressed changed changing opened closed locked shut
fixed repaired broke broken fell falling caught catching threw throwing pulled
pushed held holding hugged kissed touched showed showing hid hidden hiding
beautiful lovely pretty handsome kind gentle quiet loud strong weak tall short big
large tiny huge heavy light bright clear simple plain poor rich proud happy sad
angry afraid scared brave careful careless clever wise foolish funny serious
strict patient busy tired hungry thirsty sick ill healthy well fine sweet bitter
sour salty fresh dry wet clean dirty soft hard rough smooth quiet empty full whole
broken wooden stone iron golden silver red blue green yellow white black brown grey
gray pink orange purple shining
grandma grandpa mum mom dad papa mama granny nana
photo photos postcard postcards diary diaries journal notebook notebooks note
notes drawer drawers box boxes trunk suitcase attic cellar basement porch yard
fence gate path lane hedge meadow pasture valley mountain mountains lake pond
stream creek island beach shore coast cliff cave rock rocks sand shells
bicycle bike cart wagon tractor truck bus tram railway railroad factory mill mine
miners mines office bank hospital doctor doctors nurse nurses medicine illness
fever war-time wartime rationing ration coupons bombing bombs shelter sirens
blackout evacuated evacuee refugees refugee camp's
grocer baker butcher blacksmith carpenter tailor seamstress shoemaker farmer
farmers fisherman fishermen sailor sailors miner priest minister pastor rabbi
nun monk policeman postman clerk secretary engineer mechanic driver pilot
shepherd gardener cook maid servant housekeeper
coat hat hats scarf gloves boots shoes apron shirt trousers skirt sweater blanket
quilt quilts curtains carpet chair chairs table's bench sofa lamp candle candles
mirror clock's cup cups plate plates bowl bowls spoon knife fork pot pots kettle
jar jars basket baskets bucket bottle bottles sack barrel
dog dogs cat cats puppy kitten pig pigs goat goats sheep lamb lambs duck ducks geese
goose rabbit rabbits mouse mice bird birds owl crow hen rooster bees bee hive hives
fox deer bear wolf fish trout salmon
potatoes potato carrots onions beans peas cabbage corn tomatoes cherries plums pears
berries strawberries blueberries grapes nuts walnuts chestnuts mushrooms herbs
faith prayer prayers church-going bible hymn hymns blessing blessed heaven god lord
hope love fear grief joy sorrow pride shame luck fortune trouble danger secret
secrets promise promises truth lie lies dream dreams memory memories
memory's past future history histories legend legends tale tales rumour rumor gossip
joke jokes laugh laughter tears smile kiss hug voice voices words word name names
";

/// First names across the generations an archive spans.
pub const FIRST_NAMES: &str = "
Mary Anna Margaret Elizabeth Helen Ruth Dorothy Rose Alice Florence Edith Ethel
Lillian Irene Gladys Frances Mildred Clara Grace Marie Martha Hazel Louise Evelyn
Jean Elsie Agnes Bertha Esther Ida Julia Lucy Nellie Sarah Emma Catherine Eleanor
Josephine Pauline Ada Viola Mabel Bessie Hannah Minnie Annie Beatrice Vera Olga
Zofia Jadwiga Halina Krystyna Irena Wanda Giovanna Maria Rosa Teresa Lucia Bridget
Kathleen Eileen Maureen Siobhan Ingrid Astrid Greta Hilde Ursula Brigitte Elena
Sofia Yuki Mei Ling Priya Amina Fatima Leila Nadia Carmen Dolores Pilar Isabel
John William James George Charles Frank Joseph Robert Edward Henry Thomas Walter
Harry Arthur Albert Fred Frederick Louis Samuel David Richard Paul Peter Michael
Patrick Daniel Joseph Francis Raymond Harold Ernest Howard Herbert Alfred Leonard
Stanley Eugene Ralph Lawrence Carl Karl Otto Hans Heinrich Friedrich Wilhelm
Jan Piotr Stanislaw Tadeusz Wojciech Kazimierz Giuseppe Giovanni Antonio Francesco
Salvatore Luigi Sean Seamus Declan Liam Niall Olaf Erik Lars Sven Nils Ivan Dmitri
Sergei Nikolai Yusuf Omar Hassan Ravi Arjun Kenji Hiroshi Wei Chen Carlos Miguel
Jose Manuel Pablo Diego Tomas Andrzej Marek Lukas Matteo Noah Oliver Emily Sophie
Chloe Lily Isla Ava Mia Leo Finn Oscar Theo Jack Max
";

/// Family names; each legacy has its own, and its stories' people mostly carry it.
pub const SURNAMES: &str = "
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King
Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips
Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper
Peterson Reed Bailey Kelly Howard Cox Ward Richardson Watson Brooks Wood Bennett
Gray Hughes Price Sanders Myers Long Ross Foster OBrien Sullivan Byrne Walsh Ryan
Kowalski Nowak Wisniewski Wojcik Kaminski Lewandowski Zielinski Szymanski Dabrowski
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo
Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch
Larsen Hansen Nielsen Johansson Lindqvist Berg Andersson Eriksson Petrov Ivanov
Novak Horvat Kovac Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez
Ramirez Torres Flores Rivera Gomez Diaz Reyes Cruz Morales Ortiz Gutierrez Chavez
Nakamura Tanaka Suzuki Sato Watanabe Yamamoto Chen Wang Li Zhang Liu Patel Singh
Sharma Kumar Khan Ali Hussain Cohen Levy Friedman Katz Goldberg Rosen Weiss
Dubois Moreau Laurent Lefebvre Fournier Girard Bonnet Mercier Papadopoulos Costa
Silva Santos Oliveira Pereira Fernandes MacDonald Campbell Fraser Murray Duncan
";

/// Places the stories happen in: towns, regions, streets, landmarks.
pub const PLACES: &str = "
Krakow Warsaw Gdansk Lodz Poznan Naples Palermo Sicily Calabria Genoa Turin Milan
Dublin Cork Galway Limerick Kerry Donegal Belfast Glasgow Edinburgh Aberdeen
Liverpool Manchester Leeds Sheffield Bristol Cardiff Swansea Cornwall Devon York
Hamburg Bremen Munich Bavaria Berlin Dresden Leipzig Cologne Stuttgart Vienna
Salzburg Prague Budapest Bratislava Ljubljana Zagreb Belgrade Athens Thessaloniki
Crete Lisbon Porto Madrid Seville Valencia Barcelona Marseille Lyon Bordeaux
Brittany Normandy Paris Amsterdam Rotterdam Antwerp Ghent Oslo Bergen Stockholm
Gothenburg Copenhagen Aarhus Helsinki Tampere Riga Vilnius Tallinn Kiev Odessa
Lviv Minsk Moscow Petersburg Istanbul Smyrna Beirut Cairo Alexandria Casablanca
Lagos Nairobi Johannesburg Durban Bombay Mumbai Delhi Calcutta Madras Karachi
Lahore Dhaka Shanghai Canton Hongkong Tokyo Osaka Kyoto Yokohama Manila Saigon
Sydney Melbourne Adelaide Perth Brisbane Auckland Wellington Christchurch Toronto
Montreal Winnipeg Vancouver Halifax Quebec Boston Chicago Brooklyn Manhattan
Pittsburgh Cleveland Detroit Milwaukee Minneapolis Omaha Denver Seattle Portland
Oakland Sacramento Fresno Texas Houston Galveston Dallas Ohio Iowa Kansas Nebraska
Dakota Montana Vermont Maine Oregon Idaho Montevideo Santiago Lima
Havana Hudson Mississippi Danube Rhine Vistula Thames Shannon Elbe
Oder Volga Seine Loire Tagus Ebro Tiber Arno Baltic Adriatic Atlantic Pacific
Alps Carpathians Tatras Pyrenees Dolomites Highlands Riverside Millbrook Oakdale
Ashford Elmwood Fairview Greenfield Hillcrest Lakeside Maplewood Springfield
";

/// Themes that become tags (beside the decade and the place).
pub const THEMES: &str = "
childhood school wedding war migration farm recipes holidays christmas music work
faith letters photos travel sport illness funeral birth house garden animals
friendship love army navy factory business emigration reunion anniversary
";

/// CJK words (Chinese, a few Japanese) for the stories written without spaces.
pub const CJK_WORDS: &str = "
的 了 我们 他们 奶奶 爷爷 外婆 外公 妈妈 爸爸 哥哥 姐姐 弟弟 妹妹 孩子 家里 家庭
村子 小镇 城市 河边 山上 田里 花园 院子 厨房 学校 老师 同学 朋友 邻居 亲戚 祖先
春天 夏天 秋天 冬天 早上 晚上 那年 后来 以前 现在 一直 常常 总是 记得 回忆 故事
照片 信件 日记 婚礼 生日 春节 中秋 团圆 饺子 月饼 米饭 面条 茶叶 包子 做饭 种地
收获 下雨 下雪 太阳 月亮 星星 大海 轮船 火车 车站 离开 回来 出发 旅行 打仗 战争
工厂 工作 读书 写字 唱歌 跳舞 笑声 眼泪 想念 喜欢 希望 幸福 辛苦 勇敢 善良 安静
美丽 温暖 寒冷 老房子 木头 桌子 窗户 门口 灯笼 鞭炮 手表 自行车 收音机 电视
おばあちゃん おじいちゃん 写真 手紙 家族 思い出 桜 夏祭り 田舎 お正月 味噌汁
";

/// Chinese and Japanese family names for the CJK stories' people.
pub const CJK_NAMES: &str = "王 李 张 刘 陈 杨 黄 赵 周 吴 田中 佐藤 鈴木 山本";
