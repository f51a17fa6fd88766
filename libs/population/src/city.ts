// The synthetic city: 衢州's counties and towns, its streets, names and employers, and the
// rules its people live by.

export interface Town {
  readonly name: string;
  /** 街道 (urban, state-owned land) or 镇/乡 (rural, homestead land). */
  readonly urban: boolean;
  readonly police: string;
}

export interface County {
  readonly code: string;
  readonly name: string;
  /** As written in an address after 浙江省. */
  readonly prefix: string;
  readonly policeBureau: string;
  readonly civilAffairs: string;
  readonly estateIssuer: string;
  readonly towns: readonly Town[];
}

const town = (name: string, police: string): Town => ({ name, urban: name.endsWith('街道'), police });

/** Household i lives in COUNTIES[i % 6]; 龙游县 first, like the record fixtures. */
export const COUNTIES: readonly County[] = [
  {
    code: '330825',
    name: '龙游县',
    prefix: '浙江省衢州市龙游县',
    policeBureau: '龙游县公安局',
    civilAffairs: '龙游县民政局婚姻登记处',
    estateIssuer: '龙游县',
    towns: [town('龙洲街道', '龙洲'), town('东华街道', '东华'), town('湖镇镇', '湖镇'), town('溪口镇', '溪口'), town('詹家镇', '詹家')],
  },
  {
    code: '330802',
    name: '柯城区',
    prefix: '浙江省衢州市柯城区',
    policeBureau: '衢州市公安局柯城分局',
    civilAffairs: '衢州市柯城区民政局婚姻登记处',
    estateIssuer: '衢州市',
    towns: [town('府山街道', '府山'), town('荷花街道', '荷花'), town('信安街道', '信安'), town('花园街道', '花园'), town('石梁镇', '石梁')],
  },
  {
    code: '330803',
    name: '衢江区',
    prefix: '浙江省衢州市衢江区',
    policeBureau: '衢州市公安局衢江分局',
    civilAffairs: '衢州市衢江区民政局婚姻登记处',
    estateIssuer: '衢州市',
    towns: [town('樟潭街道', '樟潭'), town('浮石街道', '浮石'), town('廿里镇', '廿里'), town('高家镇', '高家'), town('莲花镇', '莲花')],
  },
  {
    code: '330881',
    name: '江山市',
    prefix: '浙江省衢州市江山市',
    policeBureau: '江山市公安局',
    civilAffairs: '江山市民政局婚姻登记处',
    estateIssuer: '江山市',
    towns: [town('虎山街道', '虎山'), town('双塔街道', '双塔'), town('贺村镇', '贺村'), town('峡口镇', '峡口'), town('清湖街道', '清湖')],
  },
  {
    code: '330822',
    name: '常山县',
    prefix: '浙江省衢州市常山县',
    policeBureau: '常山县公安局',
    civilAffairs: '常山县民政局婚姻登记处',
    estateIssuer: '常山县',
    towns: [town('天马街道', '天马'), town('紫港街道', '紫港'), town('金川街道', '金川'), town('球川镇', '球川'), town('辉埠镇', '辉埠')],
  },
  {
    code: '330824',
    name: '开化县',
    prefix: '浙江省衢州市开化县',
    policeBureau: '开化县公安局',
    civilAffairs: '开化县民政局婚姻登记处',
    estateIssuer: '开化县',
    towns: [town('芹阳办事处', '城关'), town('华埠镇', '华埠'), town('马金镇', '马金'), town('池淮镇', '池淮'), town('村头镇', '村头')],
  },
];

export const ROADS = [
  '人民路',
  '解放路',
  '新华路',
  '荣昌路',
  '文化路',
  '建设路',
  '太平路',
  '兴龙路',
  '公园路',
  '花园路',
  '迎宾大道',
  '府前街',
  '县学街',
  '百汇路',
  '振兴路',
];
export const VILLAGES = ['上街', '下庄', '塘头', '石塘', '后畈', '大溪', '前山', '新岭', '龙山', '枫林', '汪村', '徐家'];
export const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '朱',
  '胡',
  '郭',
  '何',
  '林',
  '高',
  '郑',
  '汪',
  '毛',
  '方',
  '余',
  '叶',
  '应',
  '吕',
  '程',
  '姜',
  '詹',
  '祝',
  '童',
  '傅',
  '邵',
  '蓝',
  '雷',
  '钟',
  '廖',
  '柴',
  '江',
  '邱',
];
export const GIVEN_MALE = [
  '伟',
  '强',
  '军',
  '勇',
  '杰',
  '涛',
  '斌',
  '建国',
  '建华',
  '志强',
  '国平',
  '海军',
  '子轩',
  '浩然',
  '宇航',
  '俊杰',
  '晨阳',
  '一鸣',
  '明辉',
  '立新',
  '文博',
  '家豪',
  '天佑',
  '振华',
];
export const GIVEN_FEMALE = [
  '芳',
  '敏',
  '静',
  '丽',
  '娟',
  '霞',
  '燕',
  '秀英',
  '桂英',
  '晓梅',
  '丽华',
  '美玲',
  '雨涵',
  '欣怡',
  '梓涵',
  '思琪',
  '佳怡',
  '婉婷',
  '春燕',
  '玉兰',
  '雅琴',
  '可欣',
  '诗雨',
  '月娥',
];
export const BRANDS = ['恒达', '华丰', '金龙', '瑞丰', '鑫源', '天成', '宏远', '盛泰', '永兴', '锦程', '利民', '新艺'];
export const INDUSTRIES = ['机械制造', '纸业', '食品', '电子科技', '建材', '物流', '纺织', '化工', '竹木制品', '商贸', '汽车配件', '家居'];
export const PUBLIC_EMPLOYERS = ['人民医院', '第一中学', '实验小学', '供电公司', '自来水有限公司', '农商银行'];
export const FLEXIBLE_EMPLOYMENT = '灵活就业人员';

// Zhejiang contribution base bounds of 2025 (CNY per month), scaled back ~5 % a year for earlier years.
export const BASE_FLOOR = 4812;
export const BASE_CEILING = 25_000;
export const RETIREMENT_AGE = { male: 60, female: 55 } as const;
export const HISTORY_MONTHS = 36;
export const MARRIAGE_AGE = 20;
export const ADULT_AGE = 18;
export const LOW_INCOME_SHARE = 0.03;
